using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>
/// One real nats-server and one in-process Orleans silo (InProcessTestCluster) configured the Orleans way:
/// <c>AddNatsGrainStorage</c>, <c>UseNatsReminderService</c>, on the app's NATS.Net
/// connection. Shared by the tests of a class (a silo start costs about two seconds here).
/// </summary>
public sealed class SiloFixture : IAsyncLifetime
{
    public const string StorageName = "nats";
    public const string StateBucket = "silo-test-state";
    public const string ReminderBucket = "silo-test-reminders";

    private NatsServer? _server;
    private NatsConnection? _connection;
    private InProcessTestCluster? _cluster;

    public NatsServer Server => _server ?? throw new InvalidOperationException("not started");

    public NatsConnection Connection => _connection ?? throw new InvalidOperationException("not started");

    public InProcessTestCluster Cluster => _cluster ?? throw new InvalidOperationException("not started");

    public IServiceProvider SiloServices => Cluster.Silos[0].ServiceProvider;

    public string ServiceId => Cluster.Options.ServiceId;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync();
        _connection = await _server.ConnectAsync();
        var connection = _connection;
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<INatsConnection>(connection);
            silo.AddNatsGrainStorage(StorageName, o =>
            {
                o.Bucket = StateBucket;
                o.Storage = KeyValue.KvStorage.Memory;
                o.StateTtls["short"] = TimeSpan.FromSeconds(1);
                o.StateTtls[TimedGrain.StateName] = TimedGrain.ConfiguredTtl;
            });
            silo.UseNatsReminderService(o =>
            {
                o.Bucket = ReminderBucket;
                o.Storage = KeyValue.KvStorage.Memory;
            });
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });
        _cluster = builder.Build();
        await _cluster.DeployAsync();
        try
        {
            await new KeyValue.KvContext(connection).GetBucketAsync(StateBucket);
            StateBucketExistedAfterStart = true;
        }
        catch (NATS.Client.JetStream.NatsJSApiException)
        {
            StateBucketExistedAfterStart = false;
        }
    }

    /// <summary>Whether the state bucket existed right after the silo started, before any grain call.</summary>
    public bool StateBucketExistedAfterStart { get; private set; }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.StopAllSilosAsync();
            await _cluster.DisposeAsync();
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

using System.Text;
using CacheProvider.Samples.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;

namespace CacheProvider.Samples.Tests;

/// <summary>
/// A real cluster for one test: a nats-server (tests/Testing, free port, temp store), three silo processes of
/// samples/Cluster on NATS alone (clustering, grain directory, storage, reminders) with the fast probe profile, and
/// an Orleans client in the test process, also on NATS clustering. Disposing stops the client, every silo process
/// (by PID) and the server, and writes each silo's log to the test output.
/// </summary>
internal sealed class ClusterUnderTest : IAsyncDisposable
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly ITestOutputHelper _output;

    private ClusterUnderTest(ITestOutputHelper output, NatsServer server)
    {
        _output = output;
        Server = server;
    }

    public NatsServer Server { get; }

    public SiloFleet Fleet { get; } = new();

    public IHost? ClientHost { get; private set; }

    public IClusterClient Client => ClientHost!.Services.GetRequiredService<IClusterClient>();

    public static async Task<ClusterUnderTest> StartAsync(ITestOutputHelper output, int silos = 3)
    {
        var cluster = new ClusterUnderTest(output, await NatsServer.StartAsync(output));
        try
        {
            for (var i = 1; i <= silos; i++)
            {
                cluster.StartSilo($"s{i}");
            }

            foreach (var silo in cluster.Fleet.Running)
            {
                await silo.WaitReadyAsync(Patience);
            }

            // Every silo sees every other Active before the test begins.
            foreach (var silo in cluster.Fleet.Running)
            {
                Assert.True(await silo.WaitUntilAsync(s => cluster.Fleet.Running.All(o => s.StatusOf(o.Address!) == "Active"), Patience),
                    $"{silo.Name} does not see every silo Active: {Describe(silo.View)}");
            }

            cluster.ClientHost = await CacheProvider.Samples.Cluster.ClientHost.StartAsync(cluster.Server.Url, ClusteringProvider.Nats, null, SampleNames.DefaultClusterId, CancellationToken.None);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public SiloProcess StartSilo(string name, int? siloPort = null, int? gatewayPort = null) =>
        Fleet.Start(new SiloSettings(Server.Url, siloPort ?? NatsServer.FreePort(), gatewayPort ?? NatsServer.FreePort(), name,
            ClusteringProvider.Nats, null, MembershipProfile.Fast, SampleNames.DefaultClusterId, ExitWithStdin: true));

    public static string Describe(IEnumerable<MemberView> view) => string.Join(", ", view.Select(m => $"{m.Name}@{m.Address}={m.Status}"));

    /// <summary>Polls <paramref name="condition"/> until it holds or <see cref="Patience"/> runs out.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }

    /// <summary>Retries <paramref name="call"/> (a grain call) until it succeeds or <see cref="Patience"/> runs out.</summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> call)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (true)
        {
            try
            {
                return await call().WaitAsync(TimeSpan.FromSeconds(20));
            }
            catch (Exception) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (ClientHost is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await ClientHost.StopAsync(stop.Token);
            }
            catch (Exception ex)
            {
                _output.WriteLine($"client stop: {ex.Message}");
            }

            ClientHost.Dispose();
        }

        var all = new StringBuilder();
        var silos = Fleet.All;
        await Fleet.DisposeAsync();
        foreach (var silo in silos)
        {
            all.AppendLine($"--- silo {silo.Name} (pid {silo.Pid}) ---").AppendLine(silo.Tail(200));
        }

        try
        {
            _output.WriteLine(all.ToString());
        }
        catch (InvalidOperationException)
        {
        }

        await Server.DisposeAsync();
    }
}

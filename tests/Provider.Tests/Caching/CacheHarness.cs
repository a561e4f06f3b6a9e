using System.Diagnostics.Metrics;
using CacheProvider.Caching;
using NATS.Client.Core;

namespace CacheProvider.Tests.Caching;

/// <summary>A real server and caches on their own connections.</summary>
internal sealed class CacheHarness : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private CacheHarness(NatsServer server) => Server = server;

    public NatsServer Server { get; }

    public static async Task<CacheHarness> StartAsync(ITestOutputHelper? output) => new(await NatsServer.StartAsync(output));

    /// <summary>A new NATS.Net connection (short reconnect waits) owned by the harness; it connects on first use.</summary>
    public NatsConnection Connect(Func<NatsOpts, NatsOpts>? configure = null)
    {
        var options = TestNats.Options(Server.Url);
        return Own(new NatsConnection(configure is null ? options : configure(options)));
    }

    /// <summary>A new connection owned by the harness, connected before it is returned.</summary>
    public async Task<NatsConnection> ConnectAsync() => Own(await Server.ConnectAsync());

    /// <summary>Disposes <paramref name="connection"/> with the harness.</summary>
    public NatsConnection Own(NatsConnection connection)
    {
        _owned.Add(connection);
        return connection;
    }

    public NatsDistributedCache Cache(Action<NatsDistributedCacheOptions>? configure = null, INatsConnection? connection = null)
    {
        var options = new NatsDistributedCacheOptions { Bucket = "cache", LimitMarkerTtl = TimeSpan.FromSeconds(1) };
        configure?.Invoke(options);
        var cache = new NatsDistributedCache(connection ?? Connect(), options);
        _owned.Insert(0, cache);
        return cache;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _owned)
        {
            await d.DisposeAsync();
        }

        await Server.DisposeAsync();
    }
}

/// <summary>Counts one instrument of the cache's meter.</summary>
internal sealed class CounterProbe : IDisposable
{
    // The meter is process-wide and other test classes run alongside: a probe may count only its own async flow.
    private static readonly AsyncLocal<CounterProbe?> Flow = new();
    private readonly MeterListener _listener = new();
    private long _value;

    /// <param name="instrument">The counter.</param>
    /// <param name="thisFlowOnly">
    /// Count only measurements made on the creating test's async flow (the cache calls it awaits), not those of
    /// background work such as watch loops or of tests running in parallel.
    /// </param>
    public CounterProbe(string instrument, bool thisFlowOnly = false)
    {
        if (thisFlowOnly)
        {
            Flow.Value = this;
        }

        _listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == "CacheProvider.Caching" && i.Name == instrument)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, v, _, _) =>
        {
            if (!thisFlowOnly || ReferenceEquals(Flow.Value, this))
            {
                Interlocked.Add(ref _value, v);
            }
        });
        _listener.Start();
    }

    public long Value => Interlocked.Read(ref _value);

    public void Dispose() => _listener.Dispose();
}

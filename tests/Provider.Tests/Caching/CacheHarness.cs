using System.Diagnostics.Metrics;
using CacheProvider.Caching;
using CacheProvider.Nats;

namespace CacheProvider.Tests.Caching;

/// <summary>A real server and caches on their own connections.</summary>
internal sealed class CacheHarness : IAsyncDisposable
{
    private readonly List<IAsyncDisposable> _owned = [];

    private CacheHarness(NatsServer server) => Server = server;

    public NatsServer Server { get; }

    public static async Task<CacheHarness> StartAsync(ITestOutputHelper output) => new(await NatsServer.StartAsync(output));

    public NatsConnection Connect()
    {
        var c = new NatsConnection(new NatsOptions { Url = Server.Url, ReconnectWait = TimeSpan.FromMilliseconds(50), MaxReconnectWait = TimeSpan.FromMilliseconds(200) });
        _owned.Add(c);
        return c;
    }

    /// <summary>Disposes <paramref name="connection"/> with the harness.</summary>
    public NatsConnection Own(NatsConnection connection)
    {
        _owned.Add(connection);
        return connection;
    }

    public NatsDistributedCache Cache(Action<NatsDistributedCacheOptions>? configure = null, NatsConnection? connection = null)
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
    private readonly MeterListener _listener = new();
    private long _value;

    public CounterProbe(string instrument)
    {
        _listener.InstrumentPublished = (i, l) =>
        {
            if (i.Meter.Name == "CacheProvider.Caching" && i.Name == instrument)
            {
                l.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, v, _, _) => Interlocked.Add(ref _value, v));
        _listener.Start();
    }

    public long Value => Interlocked.Read(ref _value);

    public void Dispose() => _listener.Dispose();
}

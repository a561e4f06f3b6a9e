namespace CacheProvider.KeyValue.Tests;

/// <summary>A real server plus a NATS.Net connection and a KV context, for one test.</summary>
internal sealed class KvHarness : IAsyncDisposable
{
    private KvHarness(NatsServer server, NatsConnection connection)
    {
        Server = server;
        Connection = connection;
        Kv = new KvContext(connection);
        connection.ConnectionDisconnected += (_, _) =>
        {
            Interlocked.Increment(ref _disconnects);
            return default;
        };
    }

    private int _disconnects;

    /// <summary>How often the connection dropped since the harness started (NATS.Net keeps no counter itself).</summary>
    public int Disconnects => Volatile.Read(ref _disconnects);

    public NatsServer Server { get; }
    public NatsConnection Connection { get; }
    public KvContext Kv { get; }

    /// <summary>NATS.Net's JetStream context on the same connection (for stream-level checks).</summary>
    public INatsJSContext Js => Kv.JetStream;

    public static async Task<KvHarness> StartAsync(ITestOutputHelper output)
    {
        var server = await NatsServer.StartAsync(output);
        return new KvHarness(server, await server.ConnectAsync());
    }

    /// <summary>A bucket with history 1 and limit markers on (what TTL'd state wants).</summary>
    public ValueTask<KvBucket> TtlBucketAsync(string name = "test", TimeSpan? markerTtl = null) =>
        Kv.CreateBucketAsync(new KvBucketConfig { Bucket = name, LimitMarkerTtl = markerTtl ?? TimeSpan.FromSeconds(5) });

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }
}

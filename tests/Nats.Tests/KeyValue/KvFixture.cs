using CacheProvider.Nats.KeyValue;

namespace CacheProvider.Nats.Tests.KeyValue;

/// <summary>A real server plus a connection and a KV context, for one test.</summary>
internal sealed class KvHarness : IAsyncDisposable
{
    private KvHarness(NatsServer server, NatsConnection connection)
    {
        Server = server;
        Connection = connection;
        Kv = new KvContext(connection);
    }

    public NatsServer Server { get; }
    public NatsConnection Connection { get; }
    public KvContext Kv { get; }

    public static async Task<KvHarness> StartAsync(ITestOutputHelper output)
    {
        var server = await NatsServer.StartAsync(output);
        var connection = new NatsConnection(new NatsOptions { Url = server.Url, ReconnectWait = TimeSpan.FromMilliseconds(50), MaxReconnectWait = TimeSpan.FromMilliseconds(250) });
        await connection.ConnectAsync();
        return new KvHarness(server, connection);
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

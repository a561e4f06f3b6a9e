using System.Text;
using CacheProvider.KeyValue.Internal;

namespace CacheProvider.KeyValue.Tests.Internal;

/// <summary>A real server plus a NATS.Net connection and the KV layer's JetStream calls, for tests of the machinery.</summary>
internal sealed class JsHarness : IAsyncDisposable
{
    private JsHarness(NatsServer server, NatsConnection connection)
    {
        Server = server;
        Connection = connection;
        Api = new JsApi(connection, new KvContextOptions());
    }

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public NatsServer Server { get; }

    public NatsConnection Connection { get; }

    public JsApi Api { get; }

    public NatsJSContext Js => Api.Js;

    public static async Task<JsHarness> StartAsync(ITestOutputHelper output)
    {
        var server = await NatsServer.StartAsync(output);
        return new JsHarness(server, await server.ConnectAsync());
    }

    /// <summary>A plain stream on <c>&lt;name&gt;.&gt;</c> with direct get on.</summary>
    public async ValueTask<StreamInfo> StreamAsync(string name = "S", bool allowTtl = false, int maxMsgSize = -1, StreamConfigStorage storage = StreamConfigStorage.File)
    {
        var stream = await Js.CreateStreamAsync(new StreamConfig
        {
            Name = name,
            Subjects = [$"{name.ToLowerInvariant()}.>"],
            AllowDirect = true,
            AllowMsgTTL = allowTtl,
            MaxMsgSize = maxMsgSize,
            Storage = storage,
        });
        return stream.Info;
    }

    /// <summary>Publishes through the KV layer's write loop (no retries); returns the stream sequence.</summary>
    public async ValueTask<ulong> PublishAsync(string subject, byte[] data, NatsHeaders? headers = null)
    {
        var ack = await Api.PublishAsync(subject, new System.Buffers.ReadOnlySequence<byte>(data), headers, new WriteRetry(TimeSpan.Zero, false, false, false), TimeProvider.System, CancellationToken.None);
        return ack.Seq;
    }

    public static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    public static string Text(ReadOnlyMemory<byte> data) => Encoding.UTF8.GetString(data.Span);

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>Waits for the client to be connected again after a server restart.</summary>
internal static class KvReconnect
{
    public static async Task WaitConnectedAsync(INatsConnection connection)
    {
        var deadline = DateTime.UtcNow + JsHarness.Patience;
        while (connection.ConnectionState != NatsConnectionState.Open)
        {
            Assert.True(DateTime.UtcNow < deadline, "client did not reconnect");
            await Task.Delay(25);
        }
    }
}

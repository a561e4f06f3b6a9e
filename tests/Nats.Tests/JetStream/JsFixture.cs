using CacheProvider.Nats.JetStream;

namespace CacheProvider.Nats.Tests.JetStream;

/// <summary>A real server plus a connection and a JetStream context, for one test.</summary>
internal sealed class JsHarness : IAsyncDisposable
{
    private JsHarness(NatsServer server, NatsConnection connection)
    {
        Server = server;
        Connection = connection;
        Js = new JetStreamContext(connection);
    }

    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public NatsServer Server { get; }
    public NatsConnection Connection { get; }
    public JetStreamContext Js { get; }

    public static async Task<JsHarness> StartAsync(ITestOutputHelper output)
    {
        var server = await NatsServer.StartAsync(output);
        var connection = new NatsConnection(new NatsOptions { Url = server.Url, ReconnectWait = TimeSpan.FromMilliseconds(50), MaxReconnectWait = TimeSpan.FromMilliseconds(250) });
        await connection.ConnectAsync();
        return new JsHarness(server, connection);
    }

    /// <summary>A plain stream on <c>&lt;name&gt;.&gt;</c> with direct get on.</summary>
    public ValueTask<StreamInfo> StreamAsync(string name = "S", bool allowTtl = false, int maxMsgSize = -1, string storage = "file") =>
        Js.CreateStreamAsync(new StreamConfig
        {
            Name = name,
            Subjects = [$"{name.ToLowerInvariant()}.>"],
            AllowDirect = true,
            AllowMsgTtl = allowTtl,
            MaxMsgSize = maxMsgSize,
            Storage = storage,
        });

    public static byte[] Bytes(string s) => System.Text.Encoding.UTF8.GetBytes(s);

    public static string Text(ReadOnlyMemory<byte> data) => System.Text.Encoding.UTF8.GetString(data.Span);

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync();
        await Server.DisposeAsync();
    }
}

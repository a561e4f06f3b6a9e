using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.Core;

namespace CacheProvider.Testing;

/// <summary>NATS.Net connections for tests: reconnects within milliseconds, so outages in tests last that long.</summary>
public static class TestNats
{
    /// <summary>Options for <paramref name="url"/> with short reconnect waits and timeouts.</summary>
    public static NatsOpts Options(string url, ILoggerFactory? loggerFactory = null) => NatsOpts.Default with
    {
        Url = url,
        Name = "cacheprovider-test",
        ConnectTimeout = TimeSpan.FromSeconds(5),
        RequestTimeout = TimeSpan.FromSeconds(5),
        CommandTimeout = TimeSpan.FromSeconds(5),
        PingInterval = TimeSpan.FromSeconds(1),
        ReconnectWaitMin = TimeSpan.FromMilliseconds(25),
        ReconnectWaitMax = TimeSpan.FromMilliseconds(250),
        ReconnectJitter = TimeSpan.FromMilliseconds(10),
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance,
    };

    /// <summary>A connected connection to <paramref name="url"/>.</summary>
    public static async Task<NatsConnection> ConnectAsync(string url, ILoggerFactory? loggerFactory = null)
    {
        var connection = new NatsConnection(Options(url, loggerFactory));
        await connection.ConnectAsync().ConfigureAwait(false);
        return connection;
    }

    /// <summary>A connected connection to <paramref name="server"/>.</summary>
    public static Task<NatsConnection> ConnectAsync(this NatsServer server, ILoggerFactory? loggerFactory = null) => ConnectAsync(server.Url, loggerFactory);
}

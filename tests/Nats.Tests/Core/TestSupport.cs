using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheProvider.Nats.Tests.Core;

/// <summary>Options and waits shared by the wire-client tests.</summary>
internal static class Test
{
    /// <summary>Generous: only there so that a broken client fails the test instead of hanging it.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Small reconnect waits and ping interval so that outages in tests last milliseconds, not seconds.</summary>
    public static NatsOptions Options(string url, ILoggerFactory? loggerFactory = null) => new()
    {
        Url = url,
        ConnectTimeout = TimeSpan.FromSeconds(5),
        RequestTimeout = TimeSpan.FromSeconds(5),
        PingInterval = TimeSpan.FromSeconds(1),
        ReconnectWait = TimeSpan.FromMilliseconds(25),
        ReconnectJitter = TimeSpan.FromMilliseconds(10),
        MaxReconnectWait = TimeSpan.FromMilliseconds(200),
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance,
    };

    public static TaskCompletionSource<T> Signal<T>() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Timeout);

    public static Task Within(this Task task) => task.WaitAsync(Timeout);

    public static async Task<NatsMsg> NextAsync(this NatsSubscription sub)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return await sub.Messages.ReadAsync(cts.Token);
    }

    public static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("Timed out waiting until " + what);
            }

            await Task.Delay(20);
        }
    }

    /// <summary>Sends raw protocol to the real server, for things our client cannot produce (a status line, for one).</summary>
    public static async Task SendRawAsync(int port, string protocol)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        var bytes = Encoding.ASCII.GetBytes("CONNECT {\"verbose\":false,\"protocol\":1,\"headers\":true}\r\n" + protocol + "PING\r\n");
        await stream.WriteAsync(bytes);

        // The PONG proves the server processed everything before it.
        var received = new StringBuilder();
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(Timeout);
        while (!received.ToString().Contains("PONG", StringComparison.Ordinal))
        {
            var n = await stream.ReadAsync(buffer, cts.Token);
            if (n == 0)
            {
                throw new IOException("Server closed the raw connection: " + received);
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, n));
        }
    }
}

/// <summary>Keeps every log line, its structured values and exceptions, so tests can search them for secrets.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => new Logger(_lines, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<string> lines, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var line = new StringBuilder().Append(logLevel).Append(' ').Append(category).Append(": ").Append(formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
            {
                foreach (var (key, value) in values)
                {
                    line.Append(" | ").Append(key).Append('=').Append(value);
                }
            }

            if (exception is not null)
            {
                line.Append('\n').Append(exception);
            }

            lines.Enqueue(line.ToString());
        }
    }
}

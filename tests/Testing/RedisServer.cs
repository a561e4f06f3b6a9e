using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Xunit.Abstractions;

namespace CacheProvider.Testing;

/// <summary>
/// A real redis-server (≥ 8, provisioned by scripts/get-redis-server.sh) on 127.0.0.1 for one test, fixture or
/// benchmark: free port, no persistence, its own working directory. Stopped by PID on dispose; its log goes to the
/// test output so a failing test shows what the server saw.
/// </summary>
public sealed partial class RedisServer : IAsyncDisposable
{
    private static readonly Lazy<string> Path = new(() => ToolLocator.Locate("REDIS_SERVER", "get-redis-server.sh", "redis-server"));
    private readonly StringBuilder _log = new();
    private readonly ITestOutputHelper? _output;
    private readonly string _dir;
    private Process? _process;

    // The append-only file's fsync policy: null = no file (in memory only), "everysec" or "always".
    private readonly string? _appendFsync;

    private RedisServer(int port, string dir, ITestOutputHelper? output, string? appendFsync)
    {
        Port = port;
        _dir = dir;
        _output = output;
        _appendFsync = appendFsync;
    }

    /// <summary>The port.</summary>
    public int Port { get; }

    /// <summary><c>127.0.0.1:port</c>, a StackExchange.Redis configuration string.</summary>
    public string Configuration => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The process id while running.</summary>
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Path of the provisioned redis-server (a wrapper script around Debian testing's binary).</summary>
    public static string ServerPath => Path.Value;

    /// <summary>Starts a server and waits until it answers PING.</summary>
    /// <param name="output">Test output that receives the server log on dispose.</param>
    /// <param name="persistent">
    /// Keep the data across <see cref="StopAsync"/> / <see cref="StartAgainAsync"/> (append-only file, fsync once a
    /// second, Redis' default), as a Redis holding cluster membership would be run; default: in memory only.
    /// </param>
    /// <param name="durable">
    /// Append-only file with an fsync per write (<c>appendfsync always</c>), so an acknowledged write survives
    /// <see cref="KillAsync"/>, as it does on a nats-server file store. Implies <paramref name="persistent"/>.
    /// </param>
    public static async Task<RedisServer> StartAsync(ITestOutputHelper? output = null, bool persistent = false, bool durable = false)
    {
        var appendFsync = durable ? "always" : persistent ? "everysec" : null;
        var server = new RedisServer(NatsServer.FreePort(), Directory.CreateTempSubdirectory("redis-test-").FullName, output, appendFsync);
        await server.StartProcessAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>SIGKILL and wait for exit: no chance to flush or say goodbye.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            p.Kill();
            await p.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Stops the server (an outage) with SIGTERM, so a persistent one flushes its file, SIGKILL after 10 s;
    /// <see cref="StartAgainAsync"/> brings it back on the same port and directory.
    /// </summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            _ = Kill(p.Id, SigTerm);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await p.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                p.Kill();
                await p.WaitForExitAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Starts the process again on the same port and directory after <see cref="StopAsync"/> or <see cref="KillAsync"/>; returns once it answers PING.</summary>
    public Task StartAgainAsync()
    {
        _process?.Dispose();
        _process = null;
        return StartProcessAsync();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_process is { HasExited: false } p)
            {
                p.Kill();
                await p.WaitForExitAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _process?.Dispose();
            try
            {
                _output?.WriteLine($"--- redis-server log (port {Port}) ---\n{_log}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished writing output.
            }

            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task StartProcessAsync()
    {
        var psi = new ProcessStartInfo(ServerPath,
        [
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--protected-mode", "no",
            "--save", "", "--appendonly", _appendFsync is null ? "no" : "yes", "--appendfsync", _appendFsync ?? "everysec",
            "--dir", _dir, "--daemonize", "no", "--loglevel", "warning",
        ])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process?.Dispose();
        _process = process;
        ProcessTracker.Add(process);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {process.ExitCode}:\n{_log}");
            }

            if (await AnswersPingAsync().ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(25).ConfigureAwait(false);
        }

        throw new TimeoutException($"redis-server did not answer PING on port {Port}:\n{_log}");
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private async Task<bool> AnswersPingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray()).ConfigureAwait(false);
            var buffer = new byte[7];
            var read = await stream.ReadAsync(buffer).ConfigureAwait(false);
            return read >= 5 && buffer.AsSpan(0, 5).SequenceEqual("+PONG"u8);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

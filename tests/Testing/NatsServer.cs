using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using Xunit.Abstractions;

namespace CacheProvider.Testing;

/// <summary>
/// A real nats-server on 127.0.0.1 for one test (or one fixture): free port, temporary JetStream store,
/// optional config file. Can stop gracefully, be killed with SIGKILL, restart on the same port and store, and
/// enter lame duck mode. Its log goes to the test output on dispose, so a failing test shows what the server saw.
/// </summary>
public sealed partial class NatsServer : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int SigUsr2 = 12; // lame duck mode
    private const int SigCont = 18;
    private const int SigStop = 19;
    private readonly StringBuilder _log = new();
    private readonly ITestOutputHelper? _output;
    private readonly bool _ownsStore;
    private Process? _process;

    private NatsServer(int port, string storeDir, bool ownsStore, string? config, bool jetStream, ITestOutputHelper? output, bool configNamesServer = false)
    {
        ConfigNamesServer = configNamesServer;
        Port = port;
        StoreDir = storeDir;
        _ownsStore = ownsStore;
        Config = config;
        JetStream = jetStream;
        _output = output;
    }

    /// <summary>The client port.</summary>
    public int Port { get; }

    /// <summary>The JetStream store directory (kept across restarts).</summary>
    public string StoreDir { get; }

    /// <summary>Extra configuration file text, if any.</summary>
    public string? Config { get; }

    /// <summary>Whether JetStream is on.</summary>
    public bool JetStream { get; }

    /// <summary>
    /// The config sets <c>server_name</c> and the <c>jetstream {}</c> block itself, so <c>-n</c>, <c>-js</c> and
    /// <c>-sd</c> are not passed (command-line flags would override the config's values).
    /// </summary>
    public bool ConfigNamesServer { get; }

    /// <summary><c>nats://127.0.0.1:port</c>.</summary>
    public string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>The process id while running.</summary>
    public int? Pid => _process is { HasExited: false } p ? p.Id : null;

    /// <summary>Everything the server wrote so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts a server and waits until it accepts clients.</summary>
    /// <param name="output">Test output that receives the server log on dispose.</param>
    /// <param name="config">nats-server config file text (TLS, accounts, users); port and store are set here.</param>
    /// <param name="jetStream">Enable JetStream.</param>
    /// <param name="storeDir">Reuse a store directory (it is then not deleted on dispose).</param>
    /// <param name="port">A fixed port (e.g. a restarted server); default: a free one.</param>
    /// <param name="configNamesServer">The config names the server and configures JetStream (see <see cref="ConfigNamesServer"/>).</param>
    public static async Task<NatsServer> StartAsync(ITestOutputHelper? output = null, string? config = null, bool jetStream = true, string? storeDir = null, int? port = null, bool configNamesServer = false)
    {
        var owns = storeDir is null;
        storeDir ??= Directory.CreateTempSubdirectory("nats-test-").FullName;
        var server = new NatsServer(port ?? FreePort(), storeDir, owns, config, jetStream, output, configNamesServer && config is not null);
        await server.StartProcessAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>A TCP port that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>SIGTERM and wait for exit.</summary>
    public async Task StopAsync()
    {
        if (_process is { HasExited: false } p)
        {
            _ = Kill(p.Id, SigTerm);
            await WaitExitAsync(p, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
    }

    /// <summary>SIGKILL (kill -9): no chance to flush or say goodbye.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false } p)
        {
            _ = Kill(p.Id, SigKill);
            await WaitExitAsync(p, TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
    }

    /// <summary>Starts again on the same port and store directory.</summary>
    public async Task RestartAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await StartProcessAsync().ConfigureAwait(false);
    }

    /// <summary>Starts the process again after <see cref="KillAsync"/> or <see cref="StopAsync"/>.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    /// <summary>Puts the server into lame duck mode (SIGUSR2): it tells clients, then shuts down.</summary>
    public void EnterLameDuckMode()
    {
        if (_process is { HasExited: false } p)
        {
            _ = Kill(p.Id, SigUsr2);
        }
    }

    /// <summary>
    /// Freezes the process (SIGSTOP): sockets stay open but nothing is read or answered, like a hung server. Returns
    /// once the kernel reports every thread stopped: kill(2) only queues the signal, and on a loaded machine a thread
    /// could still answer a request sent right after it.
    /// </summary>
    public void Pause()
    {
        if (_process is { HasExited: false } p)
        {
            _ = Kill(p.Id, SigStop);
            WaitForThreads(p.Id, stopped: true);
        }
    }

    /// <summary>Lets a <see cref="Pause"/>d process run again (SIGCONT).</summary>
    public void Resume()
    {
        if (_process is { HasExited: false } p)
        {
            _ = Kill(p.Id, SigCont);
            WaitForThreads(p.Id, stopped: false);
        }
    }

    /// <summary>Polls <c>/proc/&lt;pid&gt;/task/*/stat</c> until every thread is (or no thread is) in state T.</summary>
    private static void WaitForThreads(int pid, bool stopped)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            var all = true;
            try
            {
                foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
                {
                    var stat = File.ReadAllText(Path.Combine(task, "stat"));
                    // Format: "tid (comm) S ...": the state follows the last ')' (comm may contain spaces or parens).
                    var state = stat[(stat.LastIndexOf(')') + 2)..].AsSpan()[0];
                    if ((state is 'T' or 't') != stopped)
                    {
                        all = false;
                        break;
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return; // the process (or a thread) is gone: nothing left to wait for
            }

            if (all)
            {
                return;
            }

            Thread.Sleep(1);
        }

        throw new TimeoutException($"nats-server {pid} did not {(stopped ? "stop" : "continue")} within 10 s of the signal");
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        try
        {
            await KillAsync().ConfigureAwait(false);
        }
        finally
        {
            _process?.Dispose();
            if (_output is not null)
            {
                try
                {
                    _output.WriteLine($"--- nats-server log (port {Port}) ---\n{Log}");
                }
                catch (InvalidOperationException)
                {
                    // The test already finished writing output.
                }
            }

            if (_ownsStore)
            {
                try
                {
                    Directory.Delete(StoreDir, recursive: true);
                }
                catch (IOException)
                {
                }
            }
        }
    }

    private async Task StartProcessAsync()
    {
        var args = new List<string> { "-a", "127.0.0.1", "-p", Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (!ConfigNamesServer)
        {
            args.AddRange(["-n", $"test-{Port}"]);
        }

        if (JetStream && !ConfigNamesServer)
        {
            args.AddRange(["-js", "-sd", StoreDir]);
        }

        if (Config is not null)
        {
            var configPath = Path.Combine(StoreDir, "server.conf");
            await File.WriteAllTextAsync(configPath, Config).ConfigureAwait(false);
            args.AddRange(["-c", configPath]);
        }

        var psi = new ProcessStartInfo(NatsServerLocator.ServerPath, args)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process?.Dispose();
        _process = process;
        ProcessTracker.Add(process);
        await WaitReadyAsync(process).ConfigureAwait(false);
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private async Task WaitReadyAsync(Process process)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"nats-server exited with {process.ExitCode}:\n{Log}");
            }

            // Ready means: the client port answers with INFO and, with JetStream, the server logged it is up.
            if (Log.Contains("Server is ready", StringComparison.Ordinal) && await AnswersInfoAsync().ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(25).ConfigureAwait(false);
        }

        throw new TimeoutException($"nats-server did not become ready on port {Port}:\n{Log}");
    }

    private async Task<bool> AnswersInfoAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port).ConfigureAwait(false);
            var buffer = new byte[5];
            var read = await client.GetStream().ReadAsync(buffer).ConfigureAwait(false);
            return read > 0 && buffer[0] == (byte)'I';
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static async Task WaitExitAsync(Process p, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await p.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            _ = Kill(p.Id, SigKill);
            await p.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

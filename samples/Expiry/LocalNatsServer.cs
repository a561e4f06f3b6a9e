using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;

namespace CacheProvider.Samples.Expiry;

/// <summary>
/// A nats-server this demo starts for itself: 127.0.0.1, a free port, JetStream in a temporary store directory.
/// Disposing stops exactly the process it started (by PID: SIGTERM, then SIGKILL) and deletes the directory;
/// a process-exit hook does the same if the demo ends without disposing (for example a second Ctrl+C).
/// </summary>
internal sealed partial class LocalNatsServer : IAsyncDisposable
{
    private const int SigTerm = 15;
    private const int SigKill = 9;
    private const string SetSid = "/usr/bin/setsid";
    private readonly StringBuilder _log = new();
    private readonly Process _process;
    private int _stopped;

    private LocalNatsServer(Process process, int port, string storeDir)
    {
        _process = process;
        Port = port;
        StoreDir = storeDir;
        Pid = process.Id;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public int Port { get; }

    public int Pid { get; }

    public string StoreDir { get; }

    public string Url => $"nats://127.0.0.1:{Port}";

    /// <summary>
    /// The nats-server to run: <c>$NATS_SERVER</c> (build.sh exports it), else what
    /// <c>scripts/get-nats-server.sh</c> prints (it provisions one if needed).
    /// </summary>
    public static async Task<string> LocateExecutableAsync(CancellationToken cancellationToken)
    {
        var fromEnv = Environment.GetEnvironmentVariable("NATS_SERVER");
        if (!string.IsNullOrWhiteSpace(fromEnv))
        {
            return File.Exists(fromEnv) ? fromEnv : throw new DemoFailedException($"NATS_SERVER={fromEnv} does not exist");
        }

        var script = FindUpwards("scripts/get-nats-server.sh")
            ?? throw new DemoFailedException("NATS_SERVER is not set and scripts/get-nats-server.sh was not found above " + AppContext.BaseDirectory);
        var psi = new ProcessStartInfo("bash", [script])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = false, // its progress and errors go straight to the user
            UseShellExecute = false,
        };
        using var process = Process.Start(psi) ?? throw new DemoFailedException("could not run " + script);
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        var path = output.Trim();
        if (process.ExitCode != 0 || path.Length == 0 || !File.Exists(path))
        {
            throw new DemoFailedException($"{script} failed (exit {process.ExitCode}); set NATS_SERVER to a nats-server >= 2.12.1");
        }

        return path;
    }

    /// <summary>Starts the server and waits until it accepts clients. A port taken in between is retried.</summary>
    public static async Task<LocalNatsServer> StartAsync(string executable, CancellationToken cancellationToken)
    {
        var storeDir = Directory.CreateTempSubdirectory("expiry-demo-").FullName;
        try
        {
            for (var attempt = 1; ; attempt++)
            {
                var server = Launch(executable, FreePort(), storeDir);
                try
                {
                    await server.WaitReadyAsync(cancellationToken).ConfigureAwait(false);
                    return server;
                }
                catch (DemoFailedException) when (attempt < 3 && server.Log.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
                {
                    // Another process took the port between our probe and the server's bind: try another one.
                    await server.StopAsync(deleteStore: false).ConfigureAwait(false);
                }
                catch
                {
                    await server.StopAsync(deleteStore: false).ConfigureAwait(false);
                    throw;
                }
            }
        }
        catch
        {
            TryDeleteDirectory(storeDir);
            throw;
        }
    }

    /// <summary>The server's own log (stdout and stderr), for error messages.</summary>
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

    public async ValueTask DisposeAsync() => await StopAsync(deleteStore: true).ConfigureAwait(false);

    /// <summary>Stops at once without waiting politely: for a second Ctrl+C.</summary>
    public void StopNow()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            KillQuietly(SigKill);
            TryDeleteDirectory(StoreDir);
        }
    }

    private static LocalNatsServer Launch(string executable, int port, string storeDir)
    {
        var args = new[] { "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture), "-n", $"expiry-demo-{port}", "-js", "-sd", storeDir };
        // In its own session (setsid execs in place, so the PID stays ours): Ctrl+C in a terminal signals the whole
        // foreground process group, and a server that quit at once would leave the demo stopping against a dead
        // connection. The demo stops it itself, after the app, by PID.
        var psi = File.Exists(SetSid) ? new ProcessStartInfo(SetSid, [executable, .. args]) : new ProcessStartInfo(executable, args);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.UseShellExecute = false;
        var process = new Process { StartInfo = psi };
        if (!process.Start())
        {
            process.Dispose();
            throw new DemoFailedException("could not start " + executable);
        }

        var server = new LocalNatsServer(process, port, storeDir);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return server;
    }

    private async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new DemoFailedException($"nats-server exited with code {_process.ExitCode} before it was ready:\n{Log}");
            }

            // The server opens the client port only after JetStream is up, and logs "Server is ready" then.
            if (Log.Contains("Server is ready", StringComparison.Ordinal) && await AnswersInfoAsync(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            await Task.Delay(25, cancellationToken).ConfigureAwait(false);
        }

        throw new DemoFailedException($"nats-server did not become ready on port {Port} within 15 s:\n{Log}");
    }

    private async Task<bool> AnswersInfoAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
            var buffer = new byte[4];
            var read = await client.GetStream().ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            return read == 4 && Encoding.ASCII.GetString(buffer) == "INFO";
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private async Task StopAsync(bool deleteStore)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        try
        {
            if (!_process.HasExited)
            {
                // SIGTERM lets the server close its store cleanly; SIGKILL only if it hangs.
                KillQuietly(SigTerm);
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try
                {
                    await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    KillQuietly(SigKill);
                    await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _process.Dispose();
            if (deleteStore)
            {
                TryDeleteDirectory(StoreDir);
            }
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => StopNow();

    private void KillQuietly(int signal)
    {
        try
        {
            // Only our own child, by the PID we started; HasExited guards against signalling a recycled PID.
            if (!_process.HasExited)
            {
                _ = Kill(Pid, signal);
            }
        }
        catch (InvalidOperationException)
        {
        }
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindUpwards(string relative)
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"warning: could not delete {path}: {ex.Message}");
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

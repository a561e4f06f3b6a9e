using System.Diagnostics;
using System.Text.Json;

namespace CacheProvider.Bench.Harness;

/// <summary>
/// A node script from <c>js/bench</c> running as a child process that talks JSON lines: it prints
/// <c>{"ready":true,...}</c> once connected, then (in serve mode) answers each command line on stdin with one
/// result line. Closing stdin makes every script exit; a script that does not is killed by its own PID.
/// </summary>
internal sealed class NodeScript : IAsyncDisposable
{
    private const int StderrLinesKept = 40;
    private readonly Process _process;
    private readonly Queue<string> _stderr = new();
    private readonly TextWriter _log;
    private readonly string _label;

    private NodeScript(Process process, TextWriter log, string label)
    {
        _process = process;
        _log = log;
        _label = label;
    }

    /// <summary>The first line the script printed (its ready message).</summary>
    public JsonElement Ready { get; private set; }

    /// <summary>Starts <c>node js/bench/&lt;script&gt; args…</c> and waits for its ready line.</summary>
    public static async Task<NodeScript> StartAsync(BenchContext context, string script, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var modules = Path.Combine(context.JsDirectory, "node_modules", "@nats-io", "transport-node");
        if (!Directory.Exists(modules))
        {
            throw new InvalidOperationException($"{modules} is missing: run scripts/install-node-deps.sh (./build.sh bench does)");
        }

        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = context.JsDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(context.Script(script));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException("node not found on PATH: the JS peer needs Node.js >= 20", ex);
        }

        var node = new NodeScript(process, context.Log, script);
        process.ErrorDataReceived += (_, e) => node.OnStderr(e.Data);
        process.BeginErrorReadLine();
        try
        {
            node.Ready = await node.ReadResultAsync(TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await node.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return node;
    }

    /// <summary>Sends one command (serve mode) and returns its result line.</summary>
    public async Task<JsonElement> SendAsync(object command, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var line = JsonSerializer.Serialize(command);
        await _process.StandardInput.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
        await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
        return await ReadResultAsync(timeout, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // End of stdin is every script's signal to close its connection and exit.
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // Already gone.
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Kills only the child we started, by its PID.
            _process.Kill(entireProcessTree: false);
            await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        _process.Dispose();
    }

    private async Task<JsonElement> ReadResultAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{_label}: no result within {timeout}.{StderrTail()}");
        }

        if (line is null)
        {
            await _process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            throw new InvalidOperationException($"{_label} exited with {_process.ExitCode}.{StderrTail()}");
        }

        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement.Clone();
        if (root.TryGetProperty("error", out var error))
        {
            throw new InvalidOperationException($"{_label}: {error.GetString()}{StderrTail()}");
        }

        return root;
    }

    private void OnStderr(string? line)
    {
        if (line is null)
        {
            return;
        }

        // The @nats-io packages warn about node < 22 through npm only, so anything here is worth showing.
        lock (_stderr)
        {
            _stderr.Enqueue(line);
            if (_stderr.Count > StderrLinesKept)
            {
                _stderr.Dequeue();
            }
        }

        _log.WriteLine($"  [{_label}] {line}");
    }

    private string StderrTail()
    {
        lock (_stderr)
        {
            return _stderr.Count == 0 ? string.Empty : "\n" + string.Join('\n', _stderr);
        }
    }
}

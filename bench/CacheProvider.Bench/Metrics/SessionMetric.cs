using System.Diagnostics;
using System.Globalization;
using System.Net;
using CacheProvider.Bench.Harness;
using CacheProvider.Testing;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// ASP.NET Core session requests per second of the sample web app (samples/Web) under wrk, 16 connections with one
/// session cookie each (bench/Sessions/session.lua): ours = <c>AddNatsSessionStore</c> (defaults) on the run's
/// nats-server, peer = the stock <c>AddSession()</c> over Microsoft's RedisCache (<c>AddStackExchangeRedisCache</c>) on a
/// local Redis 8 (the app's <c>--stock-redis</c>). Both apps run side by side for the whole metric; the runner alternates
/// which is measured first. Read: <c>/bench/read</c> loads the session and changes nothing; write: <c>/bench/write</c>
/// increments a counter in it. A missing wrk, Redis or app build becomes the metric's error line.
/// </summary>
internal sealed class SessionMetric : IMetric
{
    private const int Connections = 16;
    private readonly List<Process> _apps = [];
    private readonly string _work = Directory.CreateTempSubdirectory("session-bench-").FullName;
    private string _root = "";
    private string? _wrk;
    private Exception? _wrkError;
    private RedisServer? _redis;
    private Exception? _redisError;
    private (string Url, string Cookies)? _ours;
    private (string Url, string Cookies)? _peer;

    public string Name => "session";

    public IReadOnlyList<MetricOutput> Outputs { get; } =
        [new("session_read_requests_per_s", true), new("session_write_requests_per_s", true)];

    public IReadOnlyList<Side> Peers { get; } = [Side.Other];

    public string PeerLabel(Side peer) => " (peer: stock AddSession over RedisCache)";

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        _root = Path.GetDirectoryName(Path.GetFullPath(context.JsDirectory).TrimEnd('/'))!;
        try
        {
            _wrk = (await RunAsync("bash", [Path.Combine(_root, "scripts/install-wrk.sh")], TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false)).Trim().Split('\n')[^1];
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _wrkError = ex;
        }

        await RunAsync("dotnet", ["build", Path.Combine(_root, "samples/Web"), "-c", "Release", "-v", "q", "-nologo"], TimeSpan.FromMinutes(8), cancellationToken).ConfigureAwait(false);
        var dll = Path.Combine(_root, "samples/Web/bin/Release/net10.0/CacheProvider.Samples.Web.dll");
        _ours = await StartAppAsync(dll, context.ServerUrl, [], "ours", cancellationToken).ConfigureAwait(false);
        try
        {
            _redis = await RedisServer.StartAsync().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            _peer = await StartAppAsync(dll, context.ServerUrl, ["--stock-redis", _redis.Configuration], "peer", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _redisError = ex;
        }
    }

    public async Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken)
    {
        if (_wrk is null)
        {
            throw new InvalidOperationException("wrk is not available: " + _wrkError?.Message, _wrkError);
        }

        if (side != Side.Ours && _redisError is not null)
        {
            throw new InvalidOperationException("the stock-over-Redis app did not start: " + _redisError.Message, _redisError);
        }

        var (url, cookies) = side == Side.Ours ? _ours!.Value : _peer!.Value;
        var seconds = warmup ? 4 : 8;
        var read = await WrkAsync(url, cookies, "/bench/read", seconds, cancellationToken).ConfigureAwait(false);
        var write = await WrkAsync(url, cookies, "/bench/write", seconds, cancellationToken).ConfigureAwait(false);
        return [read, write];
    }

    private async Task<double> WrkAsync(string url, string cookies, string path, int seconds, CancellationToken cancellationToken)
    {
        var c = Connections.ToString(CultureInfo.InvariantCulture);
        var output = await RunAsync(_wrk!, ["-t", c, "-c", c, "-d", $"{seconds}s", "-s", Path.Combine(_root, "bench/Sessions/session.lua"), url, "--", path],
            TimeSpan.FromSeconds(seconds + 30), cancellationToken, ("SESSION_COOKIES", cookies)).ConfigureAwait(false);
        if (output.Contains("Non-2xx or 3xx responses", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"wrk saw failed requests on {url}{path}: {output.ReplaceLineEndings(" ")}");
        }

        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith("Requests/sec:", StringComparison.Ordinal))
            ?? throw new InvalidOperationException("wrk printed no Requests/sec: " + output.ReplaceLineEndings(" "));
        return double.Parse(line["Requests/sec:".Length..].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>The app as measured before the demo board: no board background work, a 20 min idle timeout (the demo's is 30 s).</summary>
    private static readonly string[] MeasurementArgs = ["--no-board", "--idle-seconds", "1200"];

    private async Task<(string Url, string Cookies)> StartAppAsync(string dll, string natsUrl, string[] extra, string name, CancellationToken cancellationToken)
    {
        var port = FreePort();
        var psi = new ProcessStartInfo("dotnet", [dll, "--port", port.ToString(CultureInfo.InvariantCulture), .. MeasurementArgs, .. extra])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["NATS_URL"] = natsUrl;
        var process = Process.Start(psi) ?? throw new InvalidOperationException("the sample app did not start");
        _apps.Add(process);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var url = $"http://127.0.0.1:{port}";
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var stats = await http.GetAsync(url + "/api/stats", cancellationToken).ConfigureAwait(false);
                if (stats.IsSuccessStatusCode)
                {
                    break;
                }
            }
            catch (HttpRequestException) when (deadline.Elapsed < TimeSpan.FromSeconds(60) && !process.HasExited)
            {
            }

            if (process.HasExited || deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                throw new InvalidOperationException($"the {name} app did not answer on {url}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        // One session per connection: the cookie of each first request, one per line (session.lua gives line i to thread i).
        var lines = new List<string>();
        for (var i = 0; i < Connections; i++)
        {
            using var login = await http.PostAsync(url + "/api/counter", null, cancellationToken).ConfigureAwait(false);
            login.EnsureSuccessStatusCode();
            var cookie = login.Headers.TryGetValues("Set-Cookie", out var values) ? values.First().Split(';')[0] : throw new InvalidOperationException("no session cookie");
            lines.Add(cookie);
        }

        var file = Path.Combine(_work, $"cookies-{name}");
        await File.WriteAllLinesAsync(file, lines, cancellationToken).ConfigureAwait(false);
        return (url, file);
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> RunAsync(string file, string[] args, TimeSpan limit, CancellationToken cancellationToken, params (string Name, string Value)[] env)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (name, value) in env)
        {
            psi.Environment[name] = value;
        }

        using var process = Process.Start(psi) ?? throw new InvalidOperationException(file + " did not start");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} did not finish within {limit.TotalSeconds} s");
        }

        var output = await stdout.ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} exited {process.ExitCode}: {(await stderr.ConfigureAwait(false)).Trim()}");
        }

        return output;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var app in _apps)
        {
            // Only the apps this metric started, by their process.
            if (!app.HasExited)
            {
                app.Kill(entireProcessTree: true);
                await app.WaitForExitAsync().ConfigureAwait(false);
            }

            app.Dispose();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync().ConfigureAwait(false);
        }

        Directory.Delete(_work, recursive: true);
    }
}

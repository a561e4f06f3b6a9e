using System.Globalization;
using System.Runtime.InteropServices;
using CacheProvider.Samples.Expiry;

namespace CacheProvider.Samples.Web;

/// <summary>
/// The web demo. Without <c>--url</c> (or <c>NATS_URL</c>) it starts its own nats-server and stops it on exit.
/// <c>--smoke</c> exercises the pages once and exits 0/1; <c>--stock</c> uses the stock session over the cache;
/// <c>--stock-redis host:port</c> uses the stock session over Microsoft's RedisCache (the session benchmark's peer);
/// <c>--no-near-cache</c> makes every session load read the server; <c>--no-board</c> leaves out the board's background
/// work (for measurements);
/// <c>--port N</c> (default 5080, or <c>WEB_DEMO_PORT</c>), <c>--idle-seconds N</c> (session idle timeout, default 30). Exit codes: 0 ok, 1 failed, 2 bad arguments, 130 interrupted.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        string? url = Environment.GetEnvironmentVariable("NATS_URL") is { Length: > 0 } env ? env : null;
        bool smoke = false, stock = false, near = true, board = true;
        string? redis = null;
        // WEB_DEMO_PORT: another port without changing the command (0 = any free one; the URL is printed).
        int port = int.TryParse(Environment.GetEnvironmentVariable("WEB_DEMO_PORT"), NumberStyles.None, CultureInfo.InvariantCulture, out var envPort) && envPort <= 65535 ? envPort : 5080;
        double idle = new WebDemoOptions { NatsUrl = "" }.IdleTimeout.TotalSeconds;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--smoke": smoke = true; port = 0; break;
                case "--stock": stock = true; break;
                case "--no-near-cache": near = false; break;
                case "--no-board": board = false; break;
                case "--stock-redis" when i + 1 < args.Length: stock = true; redis = args[++i]; break;
                case "--url" when i + 1 < args.Length: url = args[++i]; break;
                case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out var p): port = p; i++; break;
                case "--idle-seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var s) && s > 0: idle = s; i++; break;
                default:
                    Console.Error.WriteLine("usage: CacheProvider.Samples.Web [--smoke] [--stock] [--stock-redis host:port] [--no-near-cache] [--no-board] [--url nats://host:port] [--port N] [--idle-seconds N]");
                    return 2;
            }
        }

        using var cts = new CancellationTokenSource();
        LocalNatsServer? server = null;
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (cts.IsCancellationRequested)
            {
                server?.StopNow();
                Environment.Exit(130);
            }

            cts.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            if (url is null)
            {
                var executable = await LocalNatsServer.LocateExecutableAsync(cts.Token);
                server = await LocalNatsServer.StartAsync(executable, cts.Token);
                Console.WriteLine($"started {executable} (pid {server.Pid}) on {server.Url}; it stops when the app does");
            }

            var options = new WebDemoOptions { NatsUrl = url ?? server!.Url, Port = port, IdleTimeout = TimeSpan.FromSeconds(idle), StockSessions = stock, StockRedisConfiguration = redis, SessionNearCache = near, Board = board };
            await using var app = await WebDemo.StartAsync(options, cts.Token);
            var address = app.Urls.First();
            if (smoke)
            {
                Console.WriteLine($"smoke test of {address}:");
                var ok = await SmokeCheck.RunAsync(new Uri(address), board, cts.Token);
                Console.WriteLine(ok ? "smoke: all pages behaved" : "smoke: FAILED");
                await app.StopAsync(CancellationToken.None);
                return ok ? 0 : 1;
            }

            Console.WriteLine($"web demo: {address}/  (live expirations: {address}/expirations; Ctrl+C stops)");
            try
            {
                await Task.Delay(Timeout.Infinite, cts.Token);
            }
            catch (OperationCanceledException)
            {
            }

            await app.StopAsync(CancellationToken.None);
            return cts.IsCancellationRequested ? 0 : 1;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            return 130;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"WEB DEMO FAILED: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync();
            }
        }
    }
}

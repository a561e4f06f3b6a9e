using System.Globalization;
using System.Runtime.InteropServices;
using CacheProvider.KeyValue;
using NATS.Client.Core;

namespace CacheProvider.Samples.Expiry;

/// <summary>
/// The expiry demo: per-message TTL on a stream, then per-key TTL on a KV bucket, each expiry printed live with
/// the server's reason and how late it came. Starts its own nats-server unless <c>--url</c> names one.
/// Exit codes: 0 all expiries seen as expected, 1 something was wrong, 2 bad arguments, 130 interrupted.
/// </summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (!TryParseArgs(args, out var url))
        {
            Console.Error.WriteLine("usage: CacheProvider.Samples.Expiry [--url nats://host:port]");
            Console.Error.WriteLine("  without --url the demo starts its own nats-server ($NATS_SERVER or scripts/get-nats-server.sh)");
            return 2;
        }

        var report = new Report(DateTimeOffset.UtcNow);
        using var cts = new CancellationTokenSource();
        LocalNatsServer? server = null;

        // Ctrl+C / SIGTERM: cancel and let the finally blocks stop the server and delete its store.
        // A second Ctrl+C stops at once (the server still goes, by its PID).
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true;
            if (cts.IsCancellationRequested)
            {
                Console.Error.WriteLine("stopping now");
                server?.StopNow();
                Environment.Exit(130);
            }

            Console.Error.WriteLine();
            Console.Error.WriteLine("interrupted: cleaning up (press Ctrl+C again to stop at once)");
            cts.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        try
        {
            if (url is null)
            {
                var executable = await LocalNatsServer.LocateExecutableAsync(cts.Token).ConfigureAwait(false);
                server = await LocalNatsServer.StartAsync(executable, cts.Token).ConfigureAwait(false);
                report.Plain($"started {executable} (pid {server.Pid}) on {server.Url}, store {server.StoreDir}");
            }

            var results = await RunAsync(url ?? server!.Url, shared: url is not null, report, cts.Token).ConfigureAwait(false);
            Summary.Print(report, results);
            return 0;
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            Console.Error.WriteLine("demo interrupted");
            return 130;
        }
        catch (DemoFailedException ex)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"DEMO FAILED: {ex.Message}");
            return 1;
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine();
            Console.Error.WriteLine($"DEMO FAILED: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        finally
        {
            if (server is not null)
            {
                await server.DisposeAsync().ConfigureAwait(false);
                report.Plain("");
                report.Plain($"stopped nats-server pid {server.Pid} and removed {server.StoreDir}");
            }

            report.Plain(string.Create(CultureInfo.InvariantCulture, $"total {(DateTimeOffset.UtcNow - report.Start).TotalSeconds:0.0}s"));
        }
    }

    private static async Task<IReadOnlyList<ExpiryResult>> RunAsync(string url, bool shared, Report report, CancellationToken cancellationToken)
    {
        var nats = new NatsConnection(NatsOpts.Default with { Url = url, Name = "expiry-demo" });
        await using var _ = nats.ConfigureAwait(false);
        var kv = new KvContext(nats);
        var version = await kv.ConnectAsync(cancellationToken).ConfigureAwait(false);
        var info = nats.ServerInfo ?? throw new DemoFailedException("connected, but the server sent no INFO");
        if (!info.JetStreamAvailable)
        {
            throw new DemoFailedException($"{url} does not have JetStream enabled (start nats-server with -js)");
        }

        if (version < KvContext.MinimumServerVersion)
        {
            throw new DemoFailedException($"nats-server {info.Version} is too old: per-message TTL with reliable markers needs {KvContext.MinimumServerVersion}+");
        }

        report.Plain($"connected to nats-server {info.Version}; [+s.sss] = seconds since the demo started");
        var names = DemoNames.Create(shared);
        var results = new List<ExpiryResult>();
        results.AddRange(await new StreamWalkthrough(kv.JetStream, report, names).RunAsync(cancellationToken).ConfigureAwait(false));
        results.AddRange(await new BucketWalkthrough(kv, report, names).RunAsync(cancellationToken).ConfigureAwait(false));
        return results;
    }

    private static bool TryParseArgs(string[] args, out string? url)
    {
        url = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--url" && i + 1 < args.Length)
            {
                url = args[++i];
            }
            else if (arg.StartsWith("--url=", StringComparison.Ordinal))
            {
                url = arg["--url=".Length..];
            }
            else
            {
                return false;
            }
        }

        return url is null || url.Length > 0;
    }
}

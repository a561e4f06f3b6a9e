using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using CacheProvider.Bench.Reporting;
using CacheProvider.Testing;

namespace CacheProvider.Bench.Ycsb;

/// <summary>Settings of a whole run (<c>./build.sh bench ycsb [--seconds N] [--reps R] [--records N] [--workload a|b|ab]</c>).</summary>
internal sealed record YcsbSettings(double Seconds, int Reps, int Records, IReadOnlyList<Workload> Workloads, int InFlight);

/// <summary>
/// Starts one nats-server and one redis-server, then for each workload, repetition and configuration two node processes
/// (each 64 in flight), and prints each of our configurations against RedisCache (and HybridCache over ours against
/// HybridCache over RedisCache): ops/s, p50/p99 latency, stale reads, with the spread over repetitions. Configurations
/// take turns in a rotating order so a slow phase of the noisy machine hits all alike. Never throws: a configuration
/// that fails prints an error line and the run goes on.
/// </summary>
internal static class Coordinator
{
    public static async Task<int> RunAsync(YcsbSettings settings)
    {
        await using var nats = await NatsServer.StartAsync().ConfigureAwait(false);
        await using var redis = await RedisServer.StartAsync().ConfigureAwait(false);
        var work = Directory.CreateTempSubdirectory("ycsb-");
        Console.Error.WriteLine($"ycsb: nats {nats.Url}, redis {redis.Configuration}, {settings.Records} records, {settings.Seconds} s per run, {settings.Reps} reps, 2 nodes × {settings.InFlight} in flight");
        try
        {
            foreach (var workload in settings.Workloads)
            {
                var results = StoreKinds.All.ToDictionary(k => k, _ => new List<RunResult>());
                var errors = new Dictionary<StoreKind, string>();
                for (var rep = 0; rep < settings.Reps; rep++)
                {
                    for (var i = 0; i < StoreKinds.All.Length; i++)
                    {
                        var kind = StoreKinds.All[(i + rep) % StoreKinds.All.Length];
                        if (errors.ContainsKey(kind))
                        {
                            continue;
                        }

                        try
                        {
                            var result = await RunOnceAsync(kind, workload, settings, nats.Url, redis.Configuration, work.FullName).ConfigureAwait(false);
                            results[kind].Add(result);
                            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                $"[ycsb {workload.Name} rep {rep + 1}] {kind.Label()}: {result.OpsPerSecond:F0} ops/s, p50 {result.P50Micros:F0} µs, p99 {result.P99Micros:F0} µs, stale {result.StaleReads}/{result.Reads}, misses {result.Misses}, errors {result.Errors}, invalidation p99 {result.InvalidationP99Micros?.ToString("F0", CultureInfo.InvariantCulture) ?? "-"} µs"));
                        }
                        catch (Exception ex)
                        {
                            errors[kind] = Report.Describe(ex);
                            Console.Error.WriteLine($"[ycsb {workload.Name}] {kind.Label()} failed: {ex}");
                        }
                    }
                }

                Print(workload, results, errors);
            }
        }
        finally
        {
            work.Delete(recursive: true);
        }

        return 0;
    }

    private static void Print(Workload workload, Dictionary<StoreKind, List<RunResult>> results, Dictionary<StoreKind, string> errors)
    {
        var pairs = new (StoreKind Ours, StoreKind Peer)[]
        {
            (StoreKind.Nats, StoreKind.Redis),
            (StoreKind.NatsNear, StoreKind.Redis),
            (StoreKind.HybridNats, StoreKind.Redis),
            (StoreKind.HybridNats, StoreKind.HybridRedis),
        };
        var prefix = "ycsb_" + workload.Name + "_2_nodes";
        foreach (var (ours, peer) in pairs)
        {
            var label = $" [{ours.Slug()}] (peer: {peer.Label()})";
            Line(prefix + "_ops_per_s" + label, ours, peer, results, errors, r => r.OpsPerSecond, "F0");
            Line(prefix + "_p50_us" + label + " (lower is better)", ours, peer, results, errors, r => r.P50Micros, "F0");
            Line(prefix + "_p99_us" + label + " (lower is better)", ours, peer, results, errors, r => r.P99Micros, "F0");
            Line(prefix + "_stale_reads_beyond_5ms" + label + " (lower is better)", ours, peer, results, errors, r => r.StaleReads, "F0");
        }

        foreach (var kind in StoreKinds.All)
        {
            if (results[kind].Count == 0)
            {
                continue;
            }

            var inv = results[kind].Where(r => r.InvalidationP99Micros is { } v && !double.IsNaN(v)).Select(r => r.InvalidationP99Micros!.Value).ToList();
            var summary = string.Create(CultureInfo.InvariantCulture,
                $"# ycsb {workload.Name} {kind.Label()}: ops/s {Report.Median(results[kind].Select(r => r.OpsPerSecond).ToList()):F0}, stale reads > 5 ms {results[kind].Sum(r => r.StaleReads)} of {results[kind].Sum(r => r.Reads)} reads, misses {results[kind].Sum(r => r.Misses)}, errors {results[kind].Sum(r => r.Errors)}");
            var invalidation = inv.Count > 0
                ? string.Create(CultureInfo.InvariantCulture, $", invalidation delay p99 {Report.Median(inv):F0} µs, stale beyond that delay {results[kind].Sum(r => r.StaleBeyondInvalidation)}")
                : string.Empty;
            Console.WriteLine(summary + invalidation);
        }
    }

    private static void Line(string name, StoreKind ours, StoreKind peer, Dictionary<StoreKind, List<RunResult>> results, Dictionary<StoreKind, string> errors, Func<RunResult, double> value, string format)
    {
        Outcome Of(StoreKind kind) => errors.TryGetValue(kind, out var e) ? Outcome.Failed(e)
            : results[kind].Count == 0 ? Outcome.Failed("no run") : Outcome.Of(Report.Median(results[kind].Select(value).ToList()));

        var o = results[ours];
        var p = results[peer];
        var n = Math.Min(o.Count, p.Count);
        string? spread = null;
        if (n >= 2)
        {
            var ratios = Enumerable.Range(0, n).Where(i => value(p[i]) != 0).Select(i => value(o[i]) / value(p[i])).ToList();
            if (ratios.Count >= 2)
            {
                spread = string.Create(CultureInfo.InvariantCulture, $"spread={ratios.Min():F2}–{ratios.Max():F2}");
            }
        }

        Report.Print(name, Of(ours), Of(peer), format, spread);
    }

    private static async Task<RunResult> RunOnceAsync(StoreKind kind, Workload workload, YcsbSettings settings, string natsUrl, string redis, string work)
    {
        var outputs = new[] { Path.Combine(work, $"{kind.Slug()}-0.bin"), Path.Combine(work, $"{kind.Slug()}-1.bin") };
        var nodes = new List<Process>(2);
        try
        {
            // Node 0 loads the records before saying ready; node 1 starts only then, so it never reads a key not yet loaded.
            for (var i = 0; i < 2; i++)
            {
                var node = StartNode(new NodeSettings(i, kind, natsUrl, redis, settings.Records, workload, settings.Seconds, settings.InFlight, Preload: i == 0, outputs[i]));
                nodes.Add(node);
                await ExpectAsync(node, "ready", TimeSpan.FromSeconds(180)).ConfigureAwait(false);
            }

            foreach (var node in nodes)
            {
                await node.StandardInput.WriteLineAsync("go").ConfigureAwait(false);
                await node.StandardInput.FlushAsync().ConfigureAwait(false);
            }

            foreach (var node in nodes)
            {
                await ExpectAsync(node, "done", TimeSpan.FromSeconds(settings.Seconds + 120)).ConfigureAwait(false);
                await node.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);
            }

            return Analysis.Judge(NodeLog.Load(outputs[0]), NodeLog.Load(outputs[1]));
        }
        finally
        {
            foreach (var node in nodes)
            {
                if (!node.HasExited)
                {
                    node.Kill(entireProcessTree: true);
                }

                node.Dispose();
            }

            foreach (var output in outputs)
            {
                File.Delete(output);
            }
        }
    }

    private static Process StartNode(NodeSettings s)
    {
        var self = Environment.ProcessPath!;
        var psi = new ProcessStartInfo(self)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            psi.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        foreach (var arg in new[]
        {
            "--node", s.Index.ToString(CultureInfo.InvariantCulture), "--kind", s.Kind.ToString(), "--nats", s.NatsUrl, "--redis", s.RedisConfiguration,
            "--records", s.Records.ToString(CultureInfo.InvariantCulture), "--workload", s.Workload.Name,
            "--seconds", s.Seconds.ToString(CultureInfo.InvariantCulture), "--inflight", s.InFlight.ToString(CultureInfo.InvariantCulture),
            "--preload", s.Preload ? "1" : "0", "--out", s.Output,
        })
        {
            psi.ArgumentList.Add(arg);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException("could not start a node process");
    }

    private static async Task ExpectAsync(Process node, string line, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        while (true)
        {
            var read = await node.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"node {node.Id} exited (code {(node.HasExited ? node.ExitCode : -1)}) before '{line}'");
            if (read == line)
            {
                return;
            }
        }
    }
}

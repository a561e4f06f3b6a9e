using System.Diagnostics;
using System.Globalization;
using CacheProvider.Bench.Harness;
using CacheProvider.Bench.Metrics;
using CacheProvider.Bench.Micro;
using CacheProvider.Testing;

namespace CacheProvider.Bench;

/// <summary>
/// <c>./build.sh bench [--filter SUBSTRING] [--reps N] [--list]</c>: our KV layer and cache against NATS.Net's own KV
/// store and the official NATS JS client on one nats-server, then allocations per operation ours vs NatsKVStore
/// (BenchmarkDotNet, short job); one line per output and peer on stdout (<c>name: ours=… peer=… ratio=…</c>, or
/// <c>name: error=…</c> when that measurement failed; the run goes on); progress goes to stderr.
/// <c>./build.sh bench --bdn [BenchmarkDotNet args]</c>: the allocation micro-benchmarks with a full job instead.
/// </summary>
internal static class Program
{
    // The whole side-by-side run is meant to take a few minutes; past this something is stuck.
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(12);

    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--bdn")
        {
            return Bdn.Run(args[1..]);
        }

        string? filter = null;
        var reps = 5;
        var list = false;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--filter" when i + 1 < args.Length:
                    filter = args[++i];
                    break;
                case "--reps" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r is > 0 and <= 50:
                    reps = r;
                    i++;
                    break;
                case "--list":
                    list = true;
                    break;
                default:
                    await Console.Error.WriteLineAsync(
                        "usage: bench [--filter SUBSTRING] [--reps 1..50] [--list] | bench --bdn [BenchmarkDotNet args]").ConfigureAwait(false);
                    return 2;
            }
        }

        var metrics = MetricRegistry.Select(filter).ToList();
        var allocs = AllocComparison.Select(filter);
        if (list || (metrics.Count == 0 && allocs.Count == 0))
        {
            foreach (var m in MetricRegistry.Select(null))
            {
                Console.WriteLine($"{m.Name}: {string.Join(", ", m.Peers.SelectMany(p => m.Outputs.Select(o => MetricRunner.LineName(m, o, p))))}");
                await m.DisposeAsync().ConfigureAwait(false);
            }

            Console.WriteLine($"bdn_alloc: {string.Join(", ", AllocComparison.Pairs.Select(p => p.Name))}");
            return metrics.Count == 0 && allocs.Count == 0 ? 2 : 0;
        }

        var log = TextWriter.Synchronized(Console.Error);
        using var deadline = new CancellationTokenSource(Deadline);
        var clock = Stopwatch.StartNew();
        await using var server = await NatsServer.StartAsync(output: null, jetStream: true).ConfigureAwait(false);
        var context = new BenchContext(server.Url, Path.Combine(NatsServerLocator.RepositoryRoot, "js"), log, server.Pid);
        log.WriteLine($"bench: nats-server {server.Url}, {Environment.ProcessorCount} cores, {reps} repetitions per side, median printed");
        var runner = new MetricRunner(context, Console.Out, reps);
        foreach (var metric in metrics)
        {
            await runner.RunAsync(metric, deadline.Token).ConfigureAwait(false);
        }

        if (allocs.Count > 0)
        {
            // BenchmarkDotNet runs synchronously (its in-process engine blocks the calling thread): its own thread,
            // not one of the pool's, which the connections' loops need.
            log.WriteLine("[bdn_alloc] BenchmarkDotNet, short in-process job, MemoryDiagnoser");
            var thread = new Thread(() => AllocComparison.Run(allocs, Console.Out, log)) { Name = "bdn", IsBackground = true };
            thread.Start();
            await Task.Run(thread.Join).ConfigureAwait(false);
        }

        log.WriteLine($"bench: done in {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }
}

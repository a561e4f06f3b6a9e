using System.Diagnostics;
using System.Globalization;
using CacheProvider.Bench.Harness;
using CacheProvider.Bench.Metrics;
using CacheProvider.Bench.Micro;
using CacheProvider.Testing;

namespace CacheProvider.Bench;

/// <summary>
/// <c>./build.sh bench [--filter SUBSTRING] [--reps N] [--list]</c>: our client against the official NATS JS client
/// on one nats-server, one line per metric on stdout (<c>name: ours=… peer=… ratio=…</c>); progress goes to stderr.
/// <c>./build.sh bench --bdn [BenchmarkDotNet args]</c>: allocation micro-benchmarks of our client instead.
/// </summary>
internal static class Program
{
    // The whole side-by-side run is meant to take about two minutes; past this something is stuck.
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(6);

    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--bdn")
        {
            return ClientAllocBenchmarks.Run(args[1..], typeof(ClientAllocBenchmarks), typeof(KvAllocBenchmarks), typeof(CacheAllocBenchmarks));
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
        if (list || metrics.Count == 0)
        {
            foreach (var m in MetricRegistry.Select(null))
            {
                Console.WriteLine($"{m.Name}: {string.Join(", ", m.Outputs.Select(o => o.Name))}");
            }

            return metrics.Count == 0 ? 2 : 0;
        }

        var log = TextWriter.Synchronized(Console.Error);
        using var deadline = new CancellationTokenSource(Deadline);
        var clock = Stopwatch.StartNew();
        await using var server = await NatsServer.StartAsync(output: null, jetStream: true).ConfigureAwait(false);
        var context = new BenchContext(server.Url, Path.Combine(NatsServerLocator.RepositoryRoot, "js"), log);
        log.WriteLine($"bench: nats-server {server.Url}, {Environment.ProcessorCount} cores, {reps} repetitions per side, median printed");
        var runner = new MetricRunner(context, Console.Out, reps);
        foreach (var metric in metrics)
        {
            await runner.RunAsync(metric, deadline.Token).ConfigureAwait(false);
        }

        log.WriteLine($"bench: done in {clock.Elapsed.TotalSeconds:F0} s");
        return 0;
    }
}

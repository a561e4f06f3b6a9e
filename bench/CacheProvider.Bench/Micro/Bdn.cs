using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using CacheProvider.Bench.Harness;
using Perfolizer.Horology;

namespace CacheProvider.Bench.Micro;

/// <summary>
/// BenchmarkDotNet, in process (no generated project to build), so the MemoryDiagnoser's count covers every thread of
/// this process: the caller and the connection's read and write loops.
/// <list type="bullet">
/// <item><c>./build.sh bench --bdn [BenchmarkDotNet args]</c>: every micro-benchmark, with a real job (<see cref="Run"/>).</item>
/// <item>the default run: after the side-by-side metrics, <see cref="AllocComparison"/> prints allocation lines ours vs
/// NatsKVStore from a short job (a few iterations: the point is bytes per operation, which do not need many).</item>
/// </list>
/// </summary>
internal static class Bdn
{
    /// <summary>Every micro-benchmark class.</summary>
    public static readonly Type[] Benchmarks = [typeof(KvAllocBenchmarks), typeof(CacheAllocBenchmarks)];

    /// <summary>Runs the benchmarks with BenchmarkDotNet command-line <paramref name="args"/> (e.g. <c>--filter *KvGet*</c>).</summary>
    public static int Run(string[] args)
    {
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithMinIterationTime(TimeInterval.FromMilliseconds(200));
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default);
        // The switcher applies --filter across all classes (a per-class run fails on a class the filter empties).
        var summaries = BenchmarkSwitcher.FromTypes(Benchmarks).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }
}

/// <summary>
/// The allocation lines of the default run: bytes allocated per operation, ours vs NATS.Net's KV store, from
/// BenchmarkDotNet's MemoryDiagnoser with a short in-process job. One line per <see cref="Pair"/>.
/// </summary>
internal static class AllocComparison
{
    /// <summary>A printed line: the benchmark of ours and of the peer (class, method, value-size parameter or null).</summary>
    internal sealed record Pair(string Name, Type Class, string Ours, string Peer, int? Size);

    public static readonly IReadOnlyList<Pair> Pairs =
    [
        new("kv_get_1KiB_allocated_bytes_per_op (peer: NatsKVStore GetEntryAsync<byte[]>)", typeof(KvAllocBenchmarks), nameof(KvAllocBenchmarks.KvGet), nameof(KvAllocBenchmarks.NatsKvGetEntry), 1024),
        new("kv_get_into_pooled_writer_1KiB_allocated_bytes_per_op (peer: NatsKVStore GetEntryAsync<byte[]>)", typeof(KvAllocBenchmarks), nameof(KvAllocBenchmarks.KvGetIntoPooledWriter), nameof(KvAllocBenchmarks.NatsKvGetEntry), 1024),
        new("cache_remote_TryGet_1KiB_allocated_bytes_per_op (peer: NatsKVStore raw get)", typeof(CacheAllocBenchmarks), nameof(CacheAllocBenchmarks.TryGet1KiBIntoPooledWriter), nameof(CacheAllocBenchmarks.NatsKvGetEntry1KiB), null),
    ];

    /// <summary>The pairs whose line name contains <paramref name="filter"/> (all when null; "alloc" selects all too).</summary>
    public static IReadOnlyList<Pair> Select(string? filter) =>
        Pairs.Where(p => filter is null || p.Name.Contains(filter, StringComparison.OrdinalIgnoreCase) || "bdn_alloc".Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>Runs the benchmarks <paramref name="pairs"/> need (each once) and prints their lines. Never throws.</summary>
    public static void Run(IReadOnlyList<Pair> pairs, TextWriter results, TextWriter log)
    {
        if (pairs.Count == 0)
        {
            return;
        }

        var wanted = pairs.SelectMany(p => new[] { (p.Class, p.Ours, p.Size), (p.Class, p.Peer, p.Size) }).ToHashSet();
        Dictionary<(Type, string, int?), BenchmarkReport> reports = [];
        try
        {
            // Short: one launch, two warm-up and three measured iterations of one invocation (= Batch operations) each;
            // the MemoryDiagnoser adds one iteration of its own. Seconds per benchmark, not minutes.
            var job = Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(2)
                .WithIterationCount(3)
                .WithInvocationCount(1)
                .WithUnrollFactor(1)
                .WithStrategy(BenchmarkDotNet.Engines.RunStrategy.Throughput);
            var config = ManualConfig.CreateEmpty()
                .AddJob(job)
                .AddDiagnoser(MemoryDiagnoser.Default)
                .AddColumnProvider(DefaultColumnProviders.Instance)
                .AddLogger(new WriterLogger(log))
                .AddFilter(new SimpleFilter(c => wanted.Contains((c.Descriptor.Type, c.Descriptor.WorkloadMethod.Name, SizeOf(c)))))
                .WithArtifactsPath(Path.Combine(Path.GetTempPath(), "cacheprovider-bench-bdn"))
                .WithOptions(ConfigOptions.DisableLogFile | ConfigOptions.JoinSummary);
            foreach (var summary in BenchmarkRunner.Run(pairs.Select(p => p.Class).Distinct().ToArray(), config))
            {
                foreach (var r in summary.Reports)
                {
                    reports[(r.BenchmarkCase.Descriptor.Type, r.BenchmarkCase.Descriptor.WorkloadMethod.Name, SizeOf(r.BenchmarkCase))] = r;
                }
            }
        }
        catch (Exception ex)
        {
            log.WriteLine($"[bdn_alloc] failed: {ex}");
            foreach (var p in pairs)
            {
                results.WriteLine(MetricRunner.ErrorLine(p.Name + " (lower is better)", ex));
            }

            results.Flush();
            return;
        }

        foreach (var p in pairs)
        {
            var name = p.Name + " (lower is better)";
            var ours = Bytes(reports, (p.Class, p.Ours, p.Size));
            var peer = Bytes(reports, (p.Class, p.Peer, p.Size));
            results.WriteLine(ours is { } o && peer is { } q
                ? MetricRunner.Line(name, o, q)
                : $"{name}: error=NoResult: {(ours is null ? p.Ours : p.Peer)} did not run or failed (see the log)");
        }

        results.Flush();
    }

    private static int? SizeOf(BenchmarkCase c) =>
        c.Parameters.Items.FirstOrDefault(i => i.Name == nameof(KvAllocBenchmarks.Size))?.Value is int size ? size : null;

    private static double? Bytes(Dictionary<(Type, string, int?), BenchmarkReport> reports, (Type, string, int?) key) =>
        reports.TryGetValue(key, out var r) && r.Success && r.GcStats.GetBytesAllocatedPerOperation(r.BenchmarkCase) is { } b ? b : null;

    /// <summary>BenchmarkDotNet's log to the bench's log (stderr): stdout carries result lines only.</summary>
    private sealed class WriterLogger(TextWriter writer) : ILogger
    {
        public string Id => "bench-log";

        public int Priority => 0;

        public void Write(LogKind logKind, string text) => writer.Write(text);

        public void WriteLine() => writer.WriteLine();

        public void WriteLine(LogKind logKind, string text) => writer.WriteLine(text);

        public void Flush() => writer.Flush();
    }
}

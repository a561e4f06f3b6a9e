using System.Diagnostics;
using System.Globalization;

namespace CacheProvider.Bench.Harness;

/// <summary>
/// Runs metrics side by side and prints one result line per output:
/// <c>name: ours=&lt;v&gt; peer=&lt;v&gt; ratio=&lt;ours/peer&gt;</c>. Each side is warmed up, then measured
/// <see cref="Repetitions"/> times, alternating which side goes first so a slow phase of the noisy two-core
/// machine hits both; the median of the repetitions is printed.
/// </summary>
internal sealed class MetricRunner(BenchContext context, TextWriter results, int repetitions)
{
    /// <summary>Measured runs per side (after one warm-up each).</summary>
    public int Repetitions { get; } = repetitions;

    /// <summary>Runs one metric to the end and prints its lines; the metric is disposed afterwards.</summary>
    public async Task RunAsync(IMetric metric, CancellationToken cancellationToken)
    {
        var log = context.Log;
        var clock = Stopwatch.StartNew();
        await using (metric.ConfigureAwait(false))
        {
            log.WriteLine($"[{metric.Name}] setup");
            await metric.SetupAsync(context, cancellationToken).ConfigureAwait(false);

            foreach (var side in new[] { Side.Ours, Side.Peer })
            {
                var warm = await metric.MeasureAsync(side, warmup: true, cancellationToken).ConfigureAwait(false);
                log.WriteLine($"[{metric.Name}] warm-up {side}: {Format(metric, warm)}");
            }

            var ours = new List<double[]>(Repetitions);
            var peer = new List<double[]>(Repetitions);
            for (var rep = 0; rep < Repetitions; rep++)
            {
                Side[] order = rep % 2 == 0 ? [Side.Ours, Side.Peer] : [Side.Peer, Side.Ours];
                foreach (var side in order)
                {
                    var values = await metric.MeasureAsync(side, warmup: false, cancellationToken).ConfigureAwait(false);
                    if (values.Length != metric.Outputs.Count)
                    {
                        throw new InvalidOperationException($"{metric.Name} returned {values.Length} values for {metric.Outputs.Count} outputs");
                    }

                    (side == Side.Ours ? ours : peer).Add(values);
                    log.WriteLine($"[{metric.Name}] rep {rep + 1}/{Repetitions} {side}: {Format(metric, values)}");
                }
            }

            for (var i = 0; i < metric.Outputs.Count; i++)
            {
                var output = metric.Outputs[i];
                var o = Median(ours.Select(v => v[i]));
                var p = Median(peer.Select(v => v[i]));
                results.WriteLine(Line(output, o, p));
            }

            results.Flush();
        }

        log.WriteLine($"[{metric.Name}] done in {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>The result line. Ratio is always ours/peer; the name says when lower is better.</summary>
    public static string Line(MetricOutput output, double ours, double peer)
    {
        var name = output.HigherIsBetter ? output.Name : output.Name + " (lower is better)";
        var ratio = peer == 0 ? double.NaN : ours / peer;
        return string.Create(CultureInfo.InvariantCulture, $"{name}: ours={Value(ours)} peer={Value(peer)} ratio={ratio:F2}");
    }

    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    // Large throughputs as integers, microsecond latencies with one decimal: enough precision for a 2-core box.
    private static string Value(double v) =>
        Math.Abs(v) >= 1000 ? v.ToString("F0", CultureInfo.InvariantCulture) : v.ToString("F1", CultureInfo.InvariantCulture);

    private static string Format(IMetric metric, double[] values) =>
        string.Join(", ", metric.Outputs.Zip(values, (o, v) => $"{o.Name}={Value(v)}"));
}

using System.Diagnostics;
using System.Globalization;

namespace CacheProvider.Bench.Harness;

/// <summary>
/// Runs metrics side by side and prints one result line per output and peer:
/// <c>name: ours=&lt;v&gt; peer=&lt;v&gt; ratio=&lt;ours/peer&gt;</c>. Each side is warmed up, then measured
/// <see cref="Repetitions"/> times, rotating which side goes first so a slow phase of the noisy two-core
/// machine hits all alike; the median of the repetitions is printed. A metric never ends the run: an exception
/// (of the metric, or of one side) becomes an <c>error=</c> line and the run goes on.
/// </summary>
internal sealed class MetricRunner(BenchContext context, TextWriter results, int repetitions)
{
    /// <summary>Measured runs per side (after one warm-up each).</summary>
    public int Repetitions { get; } = repetitions;

    /// <summary>Runs one metric to the end and prints its lines; the metric is disposed afterwards. Never throws.</summary>
    public async Task RunAsync(IMetric metric, CancellationToken cancellationToken)
    {
        var log = context.Log;
        var clock = Stopwatch.StartNew();
        var sides = new List<Side> { Side.Ours };
        sides.AddRange(metric.Peers);
        var failed = new Dictionary<Side, Exception>();
        var values = sides.ToDictionary(s => s, _ => new List<double[]>(Repetitions));
        var printed = false;
        try
        {
            await using (metric.ConfigureAwait(false))
            {
                log.WriteLine($"[{metric.Name}] setup");
                await metric.SetupAsync(context, cancellationToken).ConfigureAwait(false);

                foreach (var side in sides)
                {
                    await MeasureAsync(metric, side, warmup: true, rep: 0, failed, values, cancellationToken).ConfigureAwait(false);
                    if (side == Side.Ours && failed.ContainsKey(Side.Ours))
                    {
                        break;
                    }
                }

                for (var rep = 0; rep < Repetitions && !failed.ContainsKey(Side.Ours); rep++)
                {
                    // Rotate, and reverse every other repetition, so no side is always first or always after the same one.
                    var order = Enumerable.Range(0, sides.Count).Select(i => sides[(i + rep) % sides.Count]).ToList();
                    if (rep % 2 == 1)
                    {
                        order.Reverse();
                    }

                    foreach (var side in order)
                    {
                        await MeasureAsync(metric, side, warmup: false, rep + 1, failed, values, cancellationToken).ConfigureAwait(false);
                    }
                }

                PrintLines(metric, values, failed);
                printed = true;
            }
        }
        catch (Exception ex)
        {
            // Setup or dispose failed: if the lines were not printed yet, each of them says why.
            log.WriteLine($"[{metric.Name}] failed: {ex}");
            if (!printed)
            {
                foreach (var output in metric.Outputs)
                {
                    foreach (var peer in metric.Peers)
                    {
                        results.WriteLine(ErrorLine(LineName(metric, output, peer), ex));
                    }
                }
            }
        }

        results.Flush();
        log.WriteLine($"[{metric.Name}] done in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private async Task MeasureAsync(IMetric metric, Side side, bool warmup, int rep, Dictionary<Side, Exception> failed, Dictionary<Side, List<double[]>> values, CancellationToken cancellationToken)
    {
        if (failed.ContainsKey(side))
        {
            return;
        }

        var log = context.Log;
        try
        {
            var v = await metric.MeasureAsync(side, warmup, cancellationToken).ConfigureAwait(false);
            if (v.Length != metric.Outputs.Count)
            {
                throw new InvalidOperationException($"{metric.Name} returned {v.Length} values for {metric.Outputs.Count} outputs");
            }

            if (warmup)
            {
                log.WriteLine($"[{metric.Name}] warm-up {side}: {Format(metric, v)}");
            }
            else
            {
                values[side].Add(v);
                log.WriteLine($"[{metric.Name}] rep {rep}/{Repetitions} {side}: {Format(metric, v)}");
            }
        }
        catch (Exception ex)
        {
            log.WriteLine($"[{metric.Name}] {side} failed: {ex}");
            failed[side] = ex;
        }
    }

    private void PrintLines(IMetric metric, Dictionary<Side, List<double[]>> values, Dictionary<Side, Exception> failed)
    {
        for (var i = 0; i < metric.Outputs.Count; i++)
        {
            var output = metric.Outputs[i];
            foreach (var peer in metric.Peers)
            {
                var name = LineName(metric, output, peer);
                if (failed.TryGetValue(Side.Ours, out var oursError) || failed.TryGetValue(peer, out oursError))
                {
                    results.WriteLine(ErrorLine(name, oursError));
                    continue;
                }

                var o = Median(values[Side.Ours].Select(v => v[i]));
                var p = Median(values[peer].Select(v => v[i]));
                results.WriteLine(Line(name, o, p) + Spread(values[Side.Ours].Select(v => v[i]), values[peer].Select(v => v[i])));
            }
        }
    }

    /// <summary>The printed name: the output's name, what the peer is, and "(lower is better)" when so.</summary>
    public static string LineName(IMetric metric, MetricOutput output, Side peer)
    {
        var name = output.Name + metric.PeerLabel(peer);
        return output.HigherIsBetter ? name : name + " (lower is better)";
    }

    /// <summary>The result line. Ratio is always ours/peer; the name says when lower is better.</summary>
    public static string Line(string name, double ours, double peer)
    {
        var ratio = peer == 0 ? double.NaN : ours / peer;
        return string.Create(CultureInfo.InvariantCulture, $"{name}: ours={Value(ours)} peer={Value(peer)} ratio={ratio:F2}");
    }

    /// <summary>The line of a measurement that could not be made: the exception's type and first line.</summary>
    public static string ErrorLine(string name, Exception ex)
    {
        var message = ex.Message.Split('\n', 2)[0].Trim();
        return $"{name}: error={ex.GetType().Name}: {message}";
    }

    /// <summary>The range of the repetitions of each side, so a reader can tell a difference from noise.</summary>
    public static string Spread(IEnumerable<double> ours, IEnumerable<double> peer)
    {
        static string Range(IEnumerable<double> v)
        {
            var a = v.ToArray();
            return a.Length == 0 ? "-" : $"{Value(a.Min())}..{Value(a.Max())}";
        }

        return $" spread: ours={Range(ours)} peer={Range(peer)}";
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
    public static string Value(double v) =>
        Math.Abs(v) >= 1000 ? v.ToString("F0", CultureInfo.InvariantCulture) : v.ToString("F1", CultureInfo.InvariantCulture);

    private static string Format(IMetric metric, double[] values) =>
        string.Join(", ", metric.Outputs.Zip(values, (o, v) => $"{o.Name}={Value(v)}"));
}

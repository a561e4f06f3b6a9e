using System.Globalization;
using CacheProvider.Bench.Reporting;

namespace CacheProvider.Clustering.Measure;

/// <summary>The values one figure collected over repetitions (or failed to): median, spread, or why there is none.</summary>
internal sealed class Samples
{
    private readonly List<double> _values = [];
    private string? _error;

    public void Add(double value) => _values.Add(value);

    public void Fail(string error) => _error ??= error;

    public int Count => _values.Count;

    /// <summary>The median, or the first error when nothing was measured.</summary>
    public Outcome Median => _values.Count > 0 ? Outcome.Of(Report.Median(_values)) : Outcome.Failed(_error ?? "not measured");

    /// <summary>Nearest-rank percentile of all values.</summary>
    public Outcome Percentile(double p) => _values.Count > 0 ? Outcome.Of(Report.Percentile([.. _values.Order()], p)) : Outcome.Failed(_error ?? "not measured");

    /// <summary><c>min–max n=N</c>, plus the first error if some repetitions failed.</summary>
    public string Spread(string format) => _values.Count == 0
        ? "n=0"
        : $"{_values.Min().ToString(format, CultureInfo.InvariantCulture)}–{_values.Max().ToString(format, CultureInfo.InvariantCulture)} n={_values.Count}{(_error is null ? string.Empty : " (some failed: " + _error + ")")}";

    /// <summary>Prints <c>name: ours=… peer=… ratio=… (spread ours …, peer …)</c>.</summary>
    public static void Print(string name, Samples ours, Samples peer, string format, string? goal = null, Func<Samples, Outcome>? pick = null)
    {
        pick ??= s => s.Median;
        Report.Print(name, pick(ours), pick(peer), format, $"(spread ours {ours.Spread(format)}, peer {peer.Spread(format)}){(goal is null ? string.Empty : " " + goal)}");
    }
}

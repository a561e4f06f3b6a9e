namespace CacheProvider.Bench.Reporting;

/// <summary>A measured value or why there is none.</summary>
/// <remarks>Shared by the bench projects (linked source: bench/Shared).</remarks>
internal readonly record struct Outcome(double? Value, string? Error)
{
    public static Outcome Of(double value) => new(value, null);

    public static Outcome Failed(string error) => new(null, error);

    public static Outcome Failed(Exception ex) => new(null, Report.Describe(ex));

    /// <summary>A (value, error) pair as the measurement helpers return it.</summary>
    public static implicit operator Outcome((double? Value, string? Error) pair) => new(pair.Value, pair.Error);
}

/// <summary>Result lines: <c>name: ours=… peer=… ratio=…</c> (ratio = ours/peer), or <c>name: error=…</c> with what is known.</summary>
internal static class Report
{
    public static void Print(string name, Outcome ours, Outcome peer, string format, string? extra = null)
    {
        var tail = extra is null ? string.Empty : " " + extra;
        if (ours.Error is not null || peer.Error is not null)
        {
            var parts = new List<string>();
            if (ours.Error is not null)
            {
                parts.Add("ours: " + ours.Error);
            }

            if (peer.Error is not null)
            {
                parts.Add("peer: " + peer.Error);
            }

            var known = ours.Value is { } o ? $" ours={o.ToString(format)}" : peer.Value is { } p ? $" peer={p.ToString(format)}" : string.Empty;
            Console.WriteLine($"{name}: error={string.Join(" | ", parts)}{known}{tail}");
            return;
        }

        var ratio = peer.Value!.Value == 0 ? "n/a" : (ours.Value!.Value / peer.Value.Value).ToString("F2");
        Console.WriteLine($"{name}: ours={ours.Value!.Value.ToString(format)} peer={peer.Value.Value.ToString(format)} ratio={ratio}{tail}");
    }

    public static string Describe(Exception ex)
    {
        var e = ex is AggregateException { InnerException: { } inner } ? inner : ex;
        var message = e.Message.ReplaceLineEndings(" ");
        return $"{e.GetType().Name}: {(message.Length > 300 ? message[..300] + "…" : message)}";
    }

    public static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        var n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[(n / 2) - 1] + sorted[n / 2]) / 2;
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(sorted.Length * p) - 1, 0, sorted.Length - 1)];
}

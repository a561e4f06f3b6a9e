using System.Globalization;
using System.Text.RegularExpressions;

namespace CacheProvider.KvDoctor;

/// <summary>Parses and prints durations the way the nats CLI does (<c>2s</c>, <c>1h30m</c>, <c>500ms</c>, <c>7d</c>).</summary>
public static partial class Durations
{
    /// <summary>Parses <paramref name="text"/>; plain numbers are seconds.</summary>
    /// <exception cref="UsageException">Not a duration.</exception>
    public static TimeSpan Parse(string text, string flag)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim();
        if (long.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        var matches = Part().Matches(t);
        if (t.Length == 0 || matches.Sum(m => m.Length) != t.Length)
        {
            throw new UsageException($"{flag}: '{text}' is not a duration (examples: 2s, 30m, 1h30m, 500ms, 7d)");
        }

        var total = TimeSpan.Zero;
        foreach (Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
        }

        return total;
    }

    /// <summary>Short form: <c>0s</c>, <c>2s</c>, <c>1h30m</c>, <c>250ms</c>.</summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        if (value < TimeSpan.FromSeconds(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{value.TotalMilliseconds:0}ms");
        }

        var parts = new List<string>();
        if (value.Days > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{value.Days}d"));
        }

        if (value.Hours > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{value.Hours}h"));
        }

        if (value.Minutes > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{value.Minutes}m"));
        }

        if (value.Seconds > 0 || value.Milliseconds > 0)
        {
            parts.Add(value.Milliseconds > 0
                ? string.Create(CultureInfo.InvariantCulture, $"{value.Seconds + (value.Milliseconds / 1000.0):0.###}s")
                : string.Create(CultureInfo.InvariantCulture, $"{value.Seconds}s"));
        }

        return string.Concat(parts);
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)(ms|s|m|h|d)", RegexOptions.CultureInvariant)]
    private static partial Regex Part();
}

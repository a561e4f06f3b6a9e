using System.Globalization;

namespace CacheProvider.KeyValue.Internal;

/// <summary>
/// <c>Nats-TTL</c> values. The server truncates fractions (1.9 s → 1 s) and rejects anything below 1 s, so
/// TTLs are rounded up to whole seconds here; <see cref="Timeout.InfiniteTimeSpan"/> means "never".
/// </summary>
internal static class TtlFormat
{
    public const string HeaderName = "Nats-TTL";

    public static void Validate(TimeSpan ttl, string paramName = "ttl")
    {
        if (ttl == Timeout.InfiniteTimeSpan)
        {
            return;
        }

        if (ttl < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(paramName, ttl, "A per-key TTL must be at least 1 second (or Timeout.InfiniteTimeSpan for never)");
        }
    }

    /// <summary>Whole seconds, rounded up.</summary>
    public static long RoundUpSeconds(TimeSpan ttl) => (ttl.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;

    public static string Format(TimeSpan ttl) =>
        ttl == Timeout.InfiniteTimeSpan ? "never" : RoundUpSeconds(ttl).ToString(CultureInfo.InvariantCulture);

    /// <summary>Parses a header value as it arrives (ASCII bytes); see <see cref="TryParse(ReadOnlySpan{char}, out TimeSpan)"/>.</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out TimeSpan ttl)
    {
        if (System.Buffers.Text.Utf8Parser.TryParse(utf8, out long seconds, out var used) && used == utf8.Length && seconds >= 0)
        {
            ttl = TimeSpan.FromSeconds(seconds);
            return true;
        }

        if (utf8.Length > 64)
        {
            ttl = default;
            return false;
        }

        Span<char> chars = stackalloc char[utf8.Length];
        var n = System.Text.Encoding.UTF8.GetChars(utf8, chars);
        return TryParse(chars[..n], out ttl);
    }

    /// <summary>Parses integer seconds, <c>never</c>, or a Go duration (<c>1m30s</c>, <c>500ms</c>).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out TimeSpan ttl)
    {
        ttl = default;
        text = text.Trim();
        if (text.IsEmpty)
        {
            return false;
        }

        if (text.Equals("never", StringComparison.OrdinalIgnoreCase))
        {
            ttl = Timeout.InfiniteTimeSpan;
            return true;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            ttl = TimeSpan.FromSeconds(seconds);
            return true;
        }

        double totalNanos = 0;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(text[start..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            var unitStart = i;
            while (i < text.Length && !char.IsAsciiDigit(text[i]) && text[i] != '.')
            {
                i++;
            }

            double nanosPerUnit = text[unitStart..i] switch
            {
                "h" => 3_600e9,
                "m" => 60e9,
                "s" => 1e9,
                "ms" => 1e6,
                "us" or "µs" => 1e3,
                "ns" => 1,
                _ => -1,
            };
            if (nanosPerUnit < 0)
            {
                return false;
            }

            totalNanos += value * nanosPerUnit;
        }

        ttl = TimeSpan.FromTicks((long)(totalNanos / 100));
        return true;
    }
}

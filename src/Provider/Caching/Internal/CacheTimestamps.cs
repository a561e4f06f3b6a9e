using System.Buffers.Text;

namespace CacheProvider.Caching.Internal;

/// <summary>Parses the server's <c>Nats-Time-Stamp</c> (RFC 3339, nanoseconds, UTC) without allocating.</summary>
internal static class CacheTimestamps
{
    private const long UnixEpochMs = 62_135_596_800_000;

    /// <summary>What <c>TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds()</c> returns, without the DateTimeOffset.</summary>
    public static long SystemNowMs() => (DateTime.UtcNow.Ticks / TimeSpan.TicksPerMillisecond) - UnixEpochMs;

    public static bool TryParseUnixMs(ReadOnlySpan<byte> text, out long unixMs)
    {
        unixMs = 0;
        // 2026-11-22T04:35:48.123456789Z (fraction optional, offset Z or ±hh:mm)
        if (text.Length < 20 || text[4] != '-' || text[7] != '-' || (text[10] != 'T' && text[10] != 't') || text[13] != ':' || text[16] != ':')
        {
            return false;
        }

        if (!Num(text[..4], out var year) || !Num(text.Slice(5, 2), out var month) || !Num(text.Slice(8, 2), out var day) ||
            !Num(text.Slice(11, 2), out var hour) || !Num(text.Slice(14, 2), out var minute) || !Num(text.Slice(17, 2), out var second))
        {
            return false;
        }

        var i = 19;
        var millis = 0;
        if (i < text.Length && text[i] == '.')
        {
            i++;
            var digits = 0;
            while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9')
            {
                if (digits < 3)
                {
                    millis = (millis * 10) + (text[i] - '0');
                }

                digits++;
                i++;
            }

            for (; digits < 3; digits++)
            {
                millis *= 10;
            }
        }

        var offsetMinutes = 0;
        if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
        {
            if (text.Length < i + 6 || !Num(text.Slice(i + 1, 2), out var oh) || !Num(text.Slice(i + 4, 2), out var om))
            {
                return false;
            }

            offsetMinutes = (text[i] == '-' ? -1 : 1) * ((oh * 60) + om);
        }
        else if (i >= text.Length || (text[i] != 'Z' && text[i] != 'z'))
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 60)
        {
            return false;
        }

        var dt = new DateTime(year, month, day, hour, minute, Math.Min(second, 59), millis, DateTimeKind.Utc);
        unixMs = new DateTimeOffset(dt).ToUnixTimeMilliseconds() - (offsetMinutes * 60_000L);
        return true;
    }

    private static bool Num(ReadOnlySpan<byte> digits, out int value) =>
        Utf8Parser.TryParse(digits, out value, out var used) && used == digits.Length && value >= 0;
}

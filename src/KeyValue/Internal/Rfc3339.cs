using System.Buffers.Text;

namespace CacheProvider.KeyValue.Internal;

/// <summary>Parses the server's <c>Nats-Time-Stamp</c> (RFC 3339, up to nanoseconds) without allocating.</summary>
internal static class Rfc3339
{
    /// <summary>Parses to <see cref="DateTime"/> ticks (100 ns, UTC); the digits past 100 ns are dropped.</summary>
    public static bool TryParseTicks(ReadOnlySpan<byte> text, out long utcTicks)
    {
        utcTicks = 0;
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
        long fraction = 0;
        if (i < text.Length && text[i] == '.')
        {
            i++;
            var digits = 0;
            while (i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9')
            {
                if (digits < 7)
                {
                    fraction = (fraction * 10) + (text[i] - '0');
                }

                digits++;
                i++;
            }

            for (; digits < 7; digits++)
            {
                fraction *= 10;
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

        var dt = new DateTime(year, month, day, hour, minute, Math.Min(second, 59), DateTimeKind.Utc);
        utcTicks = dt.Ticks + fraction - (offsetMinutes * TimeSpan.TicksPerMinute);
        return true;
    }

    /// <summary>Ticks to Unix milliseconds.</summary>
    public static long ToUnixMs(long utcTicks) => (utcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    private static bool Num(ReadOnlySpan<byte> digits, out int value) =>
        Utf8Parser.TryParse(digits, out value, out var used) && used == digits.Length && value >= 0;
}

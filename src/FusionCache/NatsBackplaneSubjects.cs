using System.Globalization;
using System.Text;

namespace CacheProvider.FusionCache;

/// <summary>Maps a FusionCache backplane channel name onto a NATS subject.</summary>
internal static class NatsBackplaneSubjects
{
    /// <summary>
    /// <c>{prefix}.{channel}</c>, the channel escaped so that it is a valid literal subject and different channels give
    /// different subjects: characters other than ASCII letters, digits, <c>-</c>, <c>_</c>, <c>:</c> and <c>.</c> become
    /// <c>%XX</c> (their UTF-8 bytes); a <c>.</c> that would make an empty token becomes <c>%2E</c>.
    /// </summary>
    public static string For(string prefix, string channelName)
    {
        ArgumentException.ThrowIfNullOrEmpty(channelName);
        var sb = new StringBuilder(prefix.Length + 1 + channelName.Length);
        sb.Append(prefix).Append('.');
        var previousWasDot = true; // the token before the channel is the prefix's last: a leading '.' would be empty
        for (var i = 0; i < channelName.Length; i++)
        {
            var c = channelName[i];
            if (c == '.')
            {
                var last = i == channelName.Length - 1;
                if (previousWasDot || last)
                {
                    sb.Append("%2E");
                    previousWasDot = false;
                }
                else
                {
                    sb.Append('.');
                    previousWasDot = true;
                }

                continue;
            }

            previousWasDot = false;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or ':')
            {
                sb.Append(c);
                continue;
            }

            var length = char.IsHighSurrogate(c) && i + 1 < channelName.Length && char.IsLowSurrogate(channelName[i + 1]) ? 2 : 1;
            foreach (var b in Encoding.UTF8.GetBytes(channelName.Substring(i, length)))
            {
                sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }

            i += length - 1;
        }

        return sb.ToString();
    }

    /// <summary>A literal subject: non-empty tokens without whitespace, <c>*</c> or <c>&gt;</c>.</summary>
    public static bool IsValidPrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix))
        {
            return false;
        }

        foreach (var token in prefix.Split('.'))
        {
            if (token.Length == 0 || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '*' or '>'))
            {
                return false;
            }
        }

        return true;
    }
}

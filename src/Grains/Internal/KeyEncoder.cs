using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// Injective, reversible encoding of arbitrary strings (any UTF-16, lone surrogates included) into one KV key token.
/// <c>[A-Za-z0-9-/]</c> stay as they are; every other UTF-16 code unit becomes <c>_XXXX</c> (uppercase hex);
/// the empty string is <c>_</c>. Tokens never contain <c>.</c>, <c>*</c> or <c>&gt;</c>, so tokens cannot run into
/// each other and wildcard filters work per token. A token whose encoding would exceed
/// <see cref="MaxTokenLength"/> is replaced by <c>=</c> + SHA-256 (hex) of its UTF-16 code units: <c>=</c> never
/// starts a plain encoding, so the two forms cannot collide (only SHA-256 collisions could), but such tokens do
/// not decode.
/// </summary>
internal static class KeyEncoder
{
    /// <summary>Longest encoded token kept verbatim (NATS control lines are 4 KiB including the subject).</summary>
    public const int MaxTokenLength = 512;

    private const string Hex = "0123456789ABCDEF";
    private static readonly SearchValues<char> Plain = SearchValues.Create("-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");

    /// <summary>Appends the encoding of <paramref name="value"/> to <paramref name="builder"/>.</summary>
    public static void AppendToken(StringBuilder builder, ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            builder.Append('_');
            return;
        }

        var plain = value.IndexOfAnyExcept(Plain) < 0;
        if (plain && value.Length <= MaxTokenLength)
        {
            builder.Append(value);
            return;
        }

        if (EncodedLength(value) > MaxTokenLength)
        {
            AppendHashed(builder, value);
            return;
        }

        foreach (var c in value)
        {
            if (Plain.Contains(c))
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('_').Append(Hex[(c >> 12) & 0xF]).Append(Hex[(c >> 8) & 0xF]).Append(Hex[(c >> 4) & 0xF]).Append(Hex[c & 0xF]);
            }
        }
    }

    /// <summary>The encoding of <paramref name="value"/> as one token.</summary>
    public static string EncodeToken(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.Length is > 0 and <= MaxTokenLength && value.AsSpan().IndexOfAnyExcept(Plain) < 0)
        {
            return value; // its own token: no builder (the common case for string grain keys)
        }

        var builder = new StringBuilder(value.Length + 8);
        AppendToken(builder, value);
        return builder.ToString();
    }

    /// <summary>Decodes a token; false for hashed (overlong) or malformed tokens.</summary>
    public static bool TryDecodeToken(ReadOnlySpan<char> token, out string value)
    {
        value = string.Empty;
        if (token is "_")
        {
            return true;
        }

        if (token.IsEmpty || token[0] == '=')
        {
            return false;
        }

        var builder = new StringBuilder(token.Length);
        for (var i = 0; i < token.Length; i++)
        {
            var c = token[i];
            if (c != '_')
            {
                if (!Plain.Contains(c))
                {
                    return false;
                }

                builder.Append(c);
                continue;
            }

            if (i + 4 >= token.Length)
            {
                return false;
            }

            var code = 0;
            for (var j = 1; j <= 4; j++)
            {
                var d = Hex.IndexOf(token[i + j], StringComparison.Ordinal);
                if (d < 0)
                {
                    return false;
                }

                code = (code << 4) | d;
            }

            builder.Append((char)code);
            i += 4;
        }

        value = builder.ToString();
        return true;
    }

    private static int EncodedLength(ReadOnlySpan<char> value)
    {
        var length = 0;
        foreach (var c in value)
        {
            length += Plain.Contains(c) ? 1 : 5;
        }

        return length;
    }

    private static void AppendHashed(StringBuilder builder, ReadOnlySpan<char> value)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(value), hash);
        builder.Append('=');
        foreach (var b in hash)
        {
            builder.Append(Hex[b >> 4]).Append(Hex[b & 0xF]);
        }
    }
}

using System.Buffers.Text;
using System.Text;

namespace CacheProvider.Internal;

/// <summary>
/// Turns user-facing names (lock names, presence groups and members, token purposes and ids) into KV key parts.
/// KV keys allow only <c>[-/_=.a-zA-Z0-9]</c>, so other names are encoded; names that are already valid stay as
/// they are so keys remain readable in <c>nats kv</c> tooling. The mapping is injective: a readable name never
/// starts with <see cref="EncodedMarker"/>, an encoded one always does (followed by unpadded base64url of the
/// UTF-8 bytes), so two different names can never share a key.
/// </summary>
internal static class PatternKeyCodec
{
    /// <summary>First character of every encoded name; readable names that start with it are encoded too.</summary>
    public const char EncodedMarker = '=';

    /// <summary>Encodes <paramref name="name"/> as one key token or, with <paramref name="allowDots"/>, a dotted path.</summary>
    /// <exception cref="ArgumentException">Null or empty name.</exception>
    public static string Encode(string name, bool allowDots, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(name, paramName);
        return IsReadable(name, allowDots) ? name : EncodedMarker + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(name));
    }

    /// <summary>The name a key part came from (inverse of <see cref="Encode"/>).</summary>
    public static string Decode(string part)
    {
        if (part.Length == 0 || part[0] != EncodedMarker)
        {
            return part;
        }

        try
        {
            return Encoding.UTF8.GetString(Base64Url.DecodeFromChars(part.AsSpan(1)));
        }
        catch (FormatException)
        {
            // Written by someone else with a different scheme: show it as it is rather than fail a listing.
            return part;
        }
    }

    /// <summary>Checks a bucket-wide key prefix from options (null or empty = none).</summary>
    public static string? ValidatePrefix(string? prefix) =>
        string.IsNullOrEmpty(prefix) || IsReadable(prefix, allowDots: true) ? null : $"KeyPrefix '{prefix}' may contain only letters, digits and - / _ = . (no leading, trailing or double dots)";

    /// <summary>Checks a bucket name from options.</summary>
    public static string? ValidateBucket(string? bucket)
    {
        if (string.IsNullOrEmpty(bucket))
        {
            return "Bucket must not be empty";
        }

        foreach (var c in bucket)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                return $"Bucket '{bucket}' may contain only letters, digits, _ and -";
            }
        }

        return null;
    }

    /// <summary>Joins the optional prefix and the encoded parts with dots.</summary>
    public static string Join(string? prefix, string part) => string.IsNullOrEmpty(prefix) ? part : prefix + "." + part;

    private static bool IsReadable(string name, bool allowDots)
    {
        if (name[0] == EncodedMarker || name[0] == '.' || name[^1] == '.')
        {
            return false;
        }

        var previous = '\0';
        foreach (var c in name)
        {
            if (c == '.')
            {
                if (!allowDots || previous == '.')
                {
                    return false;
                }
            }
            else if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '/' or '='))
            {
                return false;
            }

            previous = c;
        }

        return true;
    }
}

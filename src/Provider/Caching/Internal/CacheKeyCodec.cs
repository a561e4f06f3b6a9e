using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace CacheProvider.Caching.Internal;

/// <summary>
/// Maps any cache key to a valid KV key, injectively. Keys that are already valid KV keys stay as they are (so the
/// CLI shows them readably) unless they start with the escape token; others become <c>_b.</c> + base64url of their
/// UTF-8 bytes. Keys whose encoding would exceed <see cref="MaxEncodedLength"/> become <c>_h.</c> + SHA-256, and the
/// original key travels in the <c>Cache-Key</c> header and is compared on every read, so even a hash collision
/// could never return another key's value.
/// </summary>
internal sealed class CacheKeyCodec
{
    public const int MaxEncodedLength = 512;
    private const string Base64Token = "_b.";
    private const string HashToken = "_h.";
    private const string EmptyToken = "_e";
    private readonly string _prefix;

    public CacheKeyCodec(string? keyPrefix) => _prefix = string.IsNullOrEmpty(keyPrefix) ? string.Empty : keyPrefix + ".";

    /// <summary>The KV key filter matching every key of this cache.</summary>
    public string Filter => _prefix + ">";

    public string Prefix => _prefix;

    /// <summary>Encodes a cache key; <paramref name="hashed"/> says the original must be stored and checked.</summary>
    public string Encode(string key, out bool hashed)
    {
        hashed = false;
        if (key.Length == 0)
        {
            return _prefix + EmptyToken;
        }

        if (IsPlain(key))
        {
            return _prefix + key;
        }

        var utf8Length = Encoding.UTF8.GetByteCount(key);
        var encodedLength = Base64.GetMaxEncodedToUtf8Length(utf8Length);
        if (encodedLength + Base64Token.Length <= MaxEncodedLength)
        {
            return _prefix + Base64Token + Base64Url(key);
        }

        hashed = true;
        Span<byte> hash = stackalloc byte[32];
        var bytes = Encoding.UTF8.GetBytes(key);
        SHA256.HashData(bytes, hash);
        return _prefix + HashToken + Convert.ToHexStringLower(hash);
    }

    /// <summary>Recovers the cache key from a KV key (hashed keys need their <c>Cache-Key</c> header).</summary>
    public bool TryDecode(string kvKey, string? keyHeader, out string key)
    {
        key = string.Empty;
        if (!kvKey.StartsWith(_prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var rest = kvKey[_prefix.Length..];
        if (rest == EmptyToken)
        {
            return true;
        }

        if (rest.StartsWith(Base64Token, StringComparison.Ordinal))
        {
            return TryFromBase64Url(rest[Base64Token.Length..], out key);
        }

        if (rest.StartsWith(HashToken, StringComparison.Ordinal))
        {
            return keyHeader is not null && TryFromBase64Url(keyHeader, out key);
        }

        key = rest;
        return true;
    }

    /// <summary>The header value carrying a hashed key's original (base64url: keys may hold CR/LF).</summary>
    public static string KeyHeaderValue(string key) => Base64Url(key);

    private static bool IsPlain(string key)
    {
        if (key.Length == 0 || key.Length > MaxEncodedLength || key[0] == '.' || key[^1] == '.' || key.StartsWith('_'))
        {
            // Leading '_' is reserved for the escape tokens (and rare in real keys): such keys are encoded.
            return false;
        }

        var prev = '\0';
        foreach (var c in key)
        {
            var ok = char.IsAsciiLetterOrDigit(c) || c is '-' or '/' or '_' or '=' or '.';
            if (!ok || (c == '.' && prev == '.'))
            {
                return false;
            }

            prev = c;
        }

        return true;
    }

    private static string Base64Url(string key)
    {
        var bytes = Encoding.UTF8.GetBytes(key);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static bool TryFromBase64Url(string text, out string key)
    {
        key = string.Empty;
        var s = text.Replace('-', '+').Replace('_', '/');
        s = (s.Length % 4) switch { 2 => s + "==", 3 => s + "=", 0 => s, _ => string.Empty };
        if (s.Length == 0 && text.Length != 0)
        {
            return false;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(s.Length);
        try
        {
            if (!Convert.TryFromBase64String(s, buffer, out var written))
            {
                return false;
            }

            key = Encoding.UTF8.GetString(buffer, 0, written);
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

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

    /// <summary>
    /// Longest cache key, in UTF-8 bytes. Hashed keys carry their original (base64url, 4/3 the size) in a header, and
    /// the server refuses a header block over 64 KiB (error 10097) — after the round trip, so it is checked here.
    /// </summary>
    public const int MaxKeyBytes = 32 * 1024;
    private const string Base64Token = "_b.";
    private const string HashToken = "_h.";
    private const string EmptyToken = "_e";
    private const int Dot = 2;
    private static readonly SearchValues<char> PlainChars =
        SearchValues.Create("-./0123456789=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz");
    private readonly string _prefix;

    /// <summary>ASCII characters of plain keys: 1 = allowed, <see cref="Dot"/> = '.', 0 = needs encoding.</summary>
    private static ReadOnlySpan<byte> PlainTable =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 0, // '-' '.' '/' 0-9 '='
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, // A-Z '_'
        0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, // a-z
    ];

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
            return _prefix.Length == 0 ? key : _prefix + key;
        }

        var utf8Length = Encoding.UTF8.GetByteCount(key);
        var encodedLength = Base64.GetMaxEncodedToUtf8Length(utf8Length);
        if (encodedLength + Base64Token.Length <= MaxEncodedLength)
        {
            return Base64Url(_prefix, Base64Token, key, utf8Length);
        }

        if (utf8Length > MaxKeyBytes)
        {
            throw new ArgumentException($"A cache key may have at most {MaxKeyBytes} bytes of UTF-8; this one has {utf8Length}", nameof(key));
        }

        hashed = true;
        byte[]? rented = null;
        try
        {
            var utf8 = rented = ArrayPool<byte>.Shared.Rent(utf8Length);
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(utf8.AsSpan(0, Encoding.UTF8.GetBytes(key, utf8)), hash);
            Span<char> hex = stackalloc char[64];
            _ = Convert.TryToHexStringLower(hash, hex, out _);
            return string.Concat(_prefix, HashToken, hex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented!);
        }
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
    public static string KeyHeaderValue(string key) => Base64Url(string.Empty, string.Empty, key, Encoding.UTF8.GetByteCount(key));

    private static bool IsPlain(string key)
    {
        if (key.Length == 0 || key.Length > MaxEncodedLength || key[0] == '.' || key[^1] == '.' || key.StartsWith('_'))
        {
            // Leading '_' is reserved for the escape tokens (and rare in real keys): such keys are encoded.
            return false;
        }

        // Runs on every read, near-cache hits included. Short keys: a table walk beats the setup of a vector search.
        var span = key.AsSpan();
        if (span.Length >= 16)
        {
            return !span.ContainsAnyExcept(PlainChars) && !span.Contains("..", StringComparison.Ordinal);
        }

        var table = PlainTable;
        var prev = 0;
        foreach (var c in span)
        {
            var kind = c < 128 ? table[c] : 0;
            if (kind == 0 || (kind & prev & Dot) != 0)
            {
                return false;
            }

            prev = kind;
        }

        return true;
    }

    /// <summary>
    /// <paramref name="head"/> + <paramref name="token"/> + base64url (unpadded) of the key's UTF-8 bytes, as one
    /// allocation: keys that are not plain are encoded on every read, near-cache hits included.
    /// </summary>
    private static string Base64Url(string head, string token, string key, int utf8Length)
    {
        const int StackLimit = 256;
        var encodedLength = System.Buffers.Text.Base64Url.GetEncodedLength(utf8Length);
        byte[]? rentedBytes = null;
        char[]? rentedChars = null;
        try
        {
            var utf8 = utf8Length <= StackLimit ? stackalloc byte[StackLimit] : (rentedBytes = ArrayPool<byte>.Shared.Rent(utf8Length));
            var chars = encodedLength <= StackLimit * 2 ? stackalloc char[StackLimit * 2] : (rentedChars = ArrayPool<char>.Shared.Rent(encodedLength));
            var written = Encoding.UTF8.GetBytes(key, utf8);
            var encoded = System.Buffers.Text.Base64Url.EncodeToChars(utf8[..written], chars);
            return string.Concat(head, token, chars[..encoded]);
        }
        finally
        {
            if (rentedBytes is not null)
            {
                ArrayPool<byte>.Shared.Return(rentedBytes);
            }

            if (rentedChars is not null)
            {
                ArrayPool<char>.Shared.Return(rentedChars);
            }
        }
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

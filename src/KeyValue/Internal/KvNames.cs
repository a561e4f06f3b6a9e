namespace CacheProvider.KeyValue.Internal;

/// <summary>Key and bucket name rules of NATS KV.</summary>
internal static class KvNames
{
    /// <summary>Keys: <c>[-/_=.a-zA-Z0-9]+</c>, no leading or trailing dot; wildcards only in filters.</summary>
    public static void ValidateKey(string key, bool allowWildcards = false, string paramName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, paramName);
        if (key.Length == 0)
        {
            throw new ArgumentException("A KV key must not be empty", paramName);
        }

        if (key.Length > KvBucket.MaxKeyLength)
        {
            throw new ArgumentException($"A KV key may have at most {KvBucket.MaxKeyLength} characters; this one has {key.Length}", paramName);
        }

        if (key[0] == '.' || key[^1] == '.')
        {
            throw new ArgumentException($"KV key '{key}' must not start or end with '.'", paramName);
        }

        var tokenStart = 0;
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (c == '.')
            {
                if (i == tokenStart)
                {
                    throw new ArgumentException($"KV key '{key}' has an empty token ('..')", paramName);
                }

                tokenStart = i + 1;
                continue;
            }

            if (IsKeyChar(c))
            {
                continue;
            }

            var isWholeToken = (i == tokenStart) && (i + 1 == key.Length || key[i + 1] == '.');
            if (allowWildcards && isWholeToken && (c == '*' || (c == '>' && i + 1 == key.Length)))
            {
                continue;
            }

            throw new ArgumentException(
                c is '*' or '>'
                    ? $"KV key '{key}' contains a wildcard: allowed only in watch/keys filters"
                    : $"KV key '{key}' contains '{c}': only letters, digits and - / _ = . are allowed",
                paramName);
        }
    }

    public static bool IsValidKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key[0] == '.' || key[^1] == '.')
        {
            return false;
        }

        var prev = '\0';
        foreach (var c in key)
        {
            if (c == '.' && prev == '.')
            {
                return false;
            }

            if (c != '.' && !IsKeyChar(c))
            {
                return false;
            }

            prev = c;
        }

        return true;
    }

    /// <summary>Bucket names: <c>[a-zA-Z0-9_-]+</c>.</summary>
    public static void ValidateBucket(string bucket, string paramName = "bucket")
    {
        ArgumentNullException.ThrowIfNull(bucket, paramName);
        if (bucket.Length == 0)
        {
            throw new ArgumentException("A bucket name must not be empty", paramName);
        }

        foreach (var c in bucket)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '-'))
            {
                throw new ArgumentException($"Bucket name '{bucket}' contains '{c}': only letters, digits, _ and - are allowed", paramName);
            }
        }
    }

    private static bool IsKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '/' or '_' or '=' or '.';
}

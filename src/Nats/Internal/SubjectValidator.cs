namespace CacheProvider.Nats.Internal;

/// <summary>Subject checks done before anything is sent: a bad subject would otherwise cost the connection.</summary>
internal static class SubjectValidator
{
    public static void ValidatePublish(string subject, string paramName = "subject")
    {
        Validate(subject, string.Empty, paramName, wildcards: false);
    }

    /// <summary>Checks the subject <paramref name="prefix"/> + <paramref name="suffix"/> without concatenating it.</summary>
    public static void ValidatePublishParts(string prefix, string suffix)
    {
        Validate(prefix, suffix, "subject", wildcards: false);
    }

    public static void ValidateSubscribe(string subject, string paramName = "subject")
    {
        Validate(subject, string.Empty, paramName, wildcards: true);
    }

    public static void ValidateToken(string token, string paramName)
    {
        ArgumentException.ThrowIfNullOrEmpty(token, paramName);
        foreach (var c in token)
        {
            if (c is ' ' or '\t' or '\r' or '\n' or '.' or '*' or '>')
            {
                throw new ArgumentException($"'{token}' is not a valid name: no spaces, dots or wildcards", paramName);
            }
        }
    }

    private static void Validate(string prefix, string suffix, string paramName, bool wildcards)
    {
        ArgumentNullException.ThrowIfNull(prefix, paramName);
        ArgumentNullException.ThrowIfNull(suffix, paramName);
        var length = prefix.Length + suffix.Length;
        if (length == 0)
        {
            ArgumentException.ThrowIfNullOrEmpty(prefix, paramName);
        }

        var tokenStart = 0;
        for (var i = 0; i <= length; i++)
        {
            var c = i == length ? '.' : At(prefix, suffix, i);
            if (c == '.')
            {
                var tokenLength = i - tokenStart;
                if (tokenLength == 0)
                {
                    throw new ArgumentException($"Subject '{prefix}{suffix}' has an empty token", paramName);
                }

                var first = At(prefix, suffix, tokenStart);
                if (tokenLength == 1 && first is '*' or '>')
                {
                    if (!wildcards)
                    {
                        throw new ArgumentException($"Subject '{prefix}{suffix}' contains a wildcard; not allowed here", paramName);
                    }

                    if (first == '>' && i != length)
                    {
                        throw new ArgumentException($"Subject '{prefix}{suffix}': '>' must be the last token", paramName);
                    }
                }

                tokenStart = i + 1;
                continue;
            }

            if (c is ' ' or '\t' or '\r' or '\n' or '\0')
            {
                throw new ArgumentException($"Subject '{prefix}{suffix}' contains whitespace", paramName);
            }
        }
    }

    private static char At(string prefix, string suffix, int i) => i < prefix.Length ? prefix[i] : suffix[i - prefix.Length];
}

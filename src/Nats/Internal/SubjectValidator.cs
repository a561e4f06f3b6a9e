namespace CacheProvider.Nats.Internal;

/// <summary>Subject checks done before anything is sent: a bad subject would otherwise cost the connection.</summary>
internal static class SubjectValidator
{
    public static void ValidatePublish(string subject, string paramName = "subject")
    {
        Validate(subject, paramName, wildcards: false);
    }

    public static void ValidateSubscribe(string subject, string paramName = "subject")
    {
        Validate(subject, paramName, wildcards: true);
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

    private static void Validate(string subject, string paramName, bool wildcards)
    {
        ArgumentException.ThrowIfNullOrEmpty(subject, paramName);
        var tokenStart = 0;
        for (var i = 0; i <= subject.Length; i++)
        {
            if (i == subject.Length || subject[i] == '.')
            {
                var length = i - tokenStart;
                if (length == 0)
                {
                    throw new ArgumentException($"Subject '{subject}' has an empty token", paramName);
                }

                if (length == 1 && subject[tokenStart] is '*' or '>')
                {
                    if (!wildcards)
                    {
                        throw new ArgumentException($"Subject '{subject}' contains a wildcard; not allowed here", paramName);
                    }

                    if (subject[tokenStart] == '>' && i != subject.Length)
                    {
                        throw new ArgumentException($"Subject '{subject}': '>' must be the last token", paramName);
                    }
                }

                tokenStart = i + 1;
                continue;
            }

            var c = subject[i];
            if (c is ' ' or '\t' or '\r' or '\n' or '\0')
            {
                throw new ArgumentException($"Subject '{subject}' contains whitespace", paramName);
            }
        }
    }
}

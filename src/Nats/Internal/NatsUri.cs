namespace CacheProvider.Nats.Internal;

/// <summary>One server address with the credentials it carried, if any.</summary>
internal sealed class NatsUri : IEquatable<NatsUri>
{
    private NatsUri(bool tls, string host, int port, string? user, string? password, string? token)
    {
        IsTls = tls;
        Host = host;
        Port = port;
        User = user;
        Password = password;
        Token = token;
    }

    public bool IsTls { get; }
    public string Host { get; }
    public int Port { get; }
    public string? User { get; }
    public string? Password { get; }
    public string? Token { get; }

    /// <summary>Address without credentials: safe for logs and exception messages.</summary>
    public override string ToString() => $"{(IsTls ? "tls" : "nats")}://{Host}:{Port}";

    public bool Equals(NatsUri? other) =>
        other is not null && Port == other.Port && string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase);

    public override bool Equals(object? obj) => Equals(obj as NatsUri);

    public override int GetHashCode() => HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(Host), Port);

    public static IReadOnlyList<NatsUri> ParseList(string urls)
    {
        var parts = SplitSeeds(urls, out var ambiguous);
        if (ambiguous)
        {
            throw new ArgumentException(
                $"The server list '{Redact(urls)}' is ambiguous: a ',' there may separate two servers or belong to a password. " +
                "Percent-encode a ',' inside credentials as %2C, and start every server URL that carries credentials with nats:// or tls://",
                nameof(urls));
        }

        var list = new List<NatsUri>();
        foreach (var part in parts)
        {
            if (part.Length == 0)
            {
                continue;
            }

            var u = Parse(part);
            if (!list.Contains(u))
            {
                list.Add(u);
            }
        }

        if (list.Count == 0)
        {
            throw new ArgumentException("No server URL given", nameof(urls));
        }

        return list;
    }

    /// <summary>
    /// Splits a comma-separated seed list, keeping a ',' that sits inside user info (an unencoded password) in its
    /// URL. User info only ends at '@', so a piece without '@' continues into the following pieces up to one that
    /// holds an '@', unless a piece in between starts with a scheme (a new URL). That reading is taken when the
    /// first piece is not a valid URL on its own (<c>nats://user:pa,ss@host</c>: "pa" is no port). When both
    /// readings are valid (<c>nats://h1:4222,tok@h2</c> is two seeds, or user h1 with password "4222,tok") no rule
    /// can know which was meant and guessing wrong would dial a host named after part of a password, so
    /// <paramref name="ambiguous"/> is set and the caller refuses the list, asking for %2C.
    /// </summary>
    private static List<string> SplitSeeds(string urls, out bool ambiguous)
    {
        ambiguous = false;
        var pieces = urls.Split(',');
        var entries = new List<string>(pieces.Length);
        var i = 0;
        while (i < pieces.Length)
        {
            var end = i;
            if (!pieces[i].Contains('@', StringComparison.Ordinal))
            {
                for (var j = i + 1; j < pieces.Length && !StartsWithScheme(pieces[j]); j++)
                {
                    if (pieces[j].Contains('@', StringComparison.Ordinal))
                    {
                        end = j;
                        break;
                    }
                }
            }

            if (end == i)
            {
                entries.Add(pieces[i].Trim());
            }
            else
            {
                ambiguous |= IsValid(pieces[i]) && AllValid(pieces, i + 1, end);
                entries.Add(string.Join(',', pieces, i, end - i + 1).Trim());
            }

            i = end + 1;
        }

        return entries;
    }

    private static bool StartsWithScheme(string piece)
    {
        var text = piece.AsSpan().TrimStart();
        var colon = text.IndexOf("://", StringComparison.Ordinal);
        if (colon <= 0 || !char.IsAsciiLetter(text[0]))
        {
            return false;
        }

        foreach (var c in text[..colon])
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('+' or '-' or '.'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool AllValid(string[] pieces, int from, int to)
    {
        for (var k = from; k <= to; k++)
        {
            if (!string.IsNullOrWhiteSpace(pieces[k]) && !IsValid(pieces[k]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValid(string piece)
    {
        try
        {
            _ = Parse(piece.Trim());
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public static NatsUri Parse(string url)
    {
        var text = url.Contains("://", StringComparison.Ordinal) ? url : "nats://" + url;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"Invalid NATS URL '{Redact(url)}'", nameof(url));
        }

        var tls = uri.Scheme switch
        {
            "nats" => false,
            "tls" => true,
            _ => throw new ArgumentException($"Unsupported URL scheme '{uri.Scheme}' in '{Redact(url)}' (use nats:// or tls://)", nameof(url)),
        };
        if (string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"NATS URL '{Redact(url)}' has no host", nameof(url));
        }

        string? user = null, password = null, token = null;
        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            var info = uri.UserInfo;
            var colon = info.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                user = Uri.UnescapeDataString(info[..colon]);
                password = Uri.UnescapeDataString(info[(colon + 1)..]);
            }
            else
            {
                token = Uri.UnescapeDataString(info);
            }
        }

        var host = uri.Host.Trim('[', ']');
        return new NatsUri(tls, host, uri.IsDefaultPort || uri.Port <= 0 ? 4222 : uri.Port, user, password, token);
    }

    /// <summary>Removes user info from every URL in a comma-separated list, commas inside passwords included.</summary>
    public static string Redact(string urls)
    {
        var parts = SplitSeeds(urls, out _);
        for (var i = 0; i < parts.Count; i++)
        {
            var p = parts[i];
            var at = p.LastIndexOf('@');
            if (at >= 0)
            {
                var scheme = p.IndexOf("://", StringComparison.Ordinal);
                parts[i] = (scheme >= 0 && scheme < at ? p[..(scheme + 3)] : string.Empty) + "***@" + p[(at + 1)..];
            }
        }

        return string.Join(',', parts);
    }
}

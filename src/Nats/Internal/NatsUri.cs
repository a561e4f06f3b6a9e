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
        var list = new List<NatsUri>();
        foreach (var part in urls.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
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

    /// <summary>Removes user info from every URL in a comma-separated list.</summary>
    public static string Redact(string urls)
    {
        var parts = urls.Split(',', StringSplitOptions.TrimEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var p = parts[i];
            var at = p.LastIndexOf('@');
            if (at >= 0)
            {
                var scheme = p.IndexOf("://", StringComparison.Ordinal);
                parts[i] = (scheme >= 0 ? p[..(scheme + 3)] : string.Empty) + "***@" + p[(at + 1)..];
            }
        }

        return string.Join(',', parts);
    }
}

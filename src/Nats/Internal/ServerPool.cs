using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheProvider.Nats.Internal;

/// <summary>Known servers: the seeds plus what the cluster announced, with failure counts for reconnects.</summary>
internal sealed class ServerPool
{
    /// <summary>
    /// Consecutive credential refusals after which a server is not tried again in this outage. Two, as in the
    /// official clients: one refusal can be a server restarting with a config still being rolled out.
    /// </summary>
    public const int MaxCredentialRefusals = 2;

    /// <summary>
    /// Most servers taken from connect_urls. A real cluster announces a handful; a garbled or hostile INFO must not
    /// grow the pool (and every reconnect round) without bound.
    /// </summary>
    public const int MaxDiscovered = 64;

    private const int MaxHostLength = 253;

    private readonly object _lock = new();
    private readonly List<Entry> _servers = [];
    private readonly bool _tls;
    private readonly ILogger _logger;
    private int _current = -1;
    private int _discovered;

    public ServerPool(IReadOnlyList<NatsUri> seeds, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        foreach (var s in seeds)
        {
            _servers.Add(new Entry(s));
            _tls |= s.IsTls;
        }
    }

    /// <summary>The first seed URL that carried credentials, used for servers the cluster announces.</summary>
    public NatsUri? CredentialSource
    {
        get
        {
            lock (_lock)
            {
                foreach (var e in _servers)
                {
                    if (e.Uri.User is not null || e.Uri.Token is not null)
                    {
                        return e.Uri;
                    }
                }

                return null;
            }
        }
    }

    /// <summary>
    /// Servers in the order to try: the one after the current first, so a dead server is tried last. Left out:
    /// servers that failed <paramref name="maxAttempts"/> times (unless negative) and servers that refused our
    /// credentials <see cref="MaxCredentialRefusals"/> times in a row.
    /// </summary>
    public List<NatsUri> Order(int maxAttempts)
    {
        lock (_lock)
        {
            var list = new List<NatsUri>(_servers.Count);
            for (var i = 1; i <= _servers.Count; i++)
            {
                var e = _servers[(_current + i + _servers.Count) % _servers.Count];
                if ((maxAttempts < 0 || e.Failures < maxAttempts) && e.CredentialRefusals < MaxCredentialRefusals)
                {
                    list.Add(e.Uri);
                }
            }

            return list;
        }
    }

    /// <summary>Whether some server is left out of <see cref="Order"/> because it refused our credentials.</summary>
    public bool AnyRefusedCredentials
    {
        get
        {
            lock (_lock)
            {
                return _servers.Exists(e => e.CredentialRefusals >= MaxCredentialRefusals);
            }
        }
    }

    public void Succeeded(NatsUri uri)
    {
        lock (_lock)
        {
            // A new connection starts a new count: refusals only mean something when they follow each other.
            foreach (var e in _servers)
            {
                e.CredentialRefusals = 0;
            }

            var i = _servers.FindIndex(e => e.Uri.Equals(uri));
            if (i >= 0)
            {
                _servers[i].Failures = 0;
                _current = i;
            }
        }
    }

    /// <param name="uri">The server that failed.</param>
    /// <param name="credentialsRefused">It refused our credentials (rather than being unreachable or slow).</param>
    public void Failed(NatsUri uri, bool credentialsRefused = false)
    {
        lock (_lock)
        {
            var e = _servers.Find(x => x.Uri.Equals(uri));
            if (e is not null)
            {
                e.Failures++;

                // A server we could not reach has not judged the credentials, so it breaks the run of refusals.
                e.CredentialRefusals = credentialsRefused ? e.CredentialRefusals + 1 : 0;
            }
        }
    }

    /// <summary>
    /// Adds servers from INFO <c>connect_urls</c>. Only plain <c>host:port</c> entries are taken (a name, an IPv4
    /// address or a bracketed IPv6 address; port 1-65535), at most <see cref="MaxDiscovered"/> in all: the INFO
    /// may be garbled, and an entry with user info, a path or port 0 would otherwise become a server to dial.
    /// </summary>
    public void AddDiscovered(string[]? urls)
    {
        if (urls is null || urls.Length == 0)
        {
            return;
        }

        var invalid = 0;
        var overCap = 0;
        string? firstInvalid = null;
        lock (_lock)
        {
            foreach (var url in urls)
            {
                NatsUri? uri = null;
                if (IsHostPort(url))
                {
                    try
                    {
                        uri = NatsUri.Parse((_tls ? "tls://" : "nats://") + url);
                    }
                    catch (ArgumentException)
                    {
                    }
                }

                if (uri is null)
                {
                    invalid++;
                    firstInvalid ??= url;
                    continue;
                }

                if (_servers.Exists(e => e.Uri.Equals(uri)))
                {
                    continue;
                }

                if (_discovered >= MaxDiscovered)
                {
                    overCap++;
                    continue;
                }

                _servers.Add(new Entry(uri));
                _discovered++;
            }
        }

        if (invalid > 0)
        {
            _logger.LogWarning("Ignored {Count} invalid connect_urls entries announced by the server (first: {Entry})", invalid, Sanitize(firstInvalid));
        }

        if (overCap > 0)
        {
            _logger.LogWarning("Ignored {Count} connect_urls entries beyond the limit of {Max} discovered servers", overCap, MaxDiscovered);
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _servers.Count;
            }
        }
    }

    /// <summary><c>host:port</c> with nothing else: no scheme, user info, path, query or whitespace.</summary>
    internal static bool IsHostPort(string? entry)
    {
        if (string.IsNullOrEmpty(entry))
        {
            return false;
        }

        var span = entry.AsSpan();
        var colon = span.LastIndexOf(':');
        if (colon <= 0 || !IsPort(span[(colon + 1)..]))
        {
            return false;
        }

        var host = span[..colon];
        if (host[0] == '[')
        {
            return host.Length > 2 && host[^1] == ']' &&
                System.Net.IPAddress.TryParse(host[1..^1], out var ip) && ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }

        if (host.Length > MaxHostLength || host[0] == '.' || host[0] == '-')
        {
            return false;
        }

        foreach (var c in host)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsPort(ReadOnlySpan<char> text) =>
        text.Length is > 0 and <= 5 && !text.ContainsAnyExceptInRange('0', '9') &&
        int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 65535;

    /// <summary>The entry as it may appear in a log: short, printable, and without anything that looks like user info.</summary>
    private static string Sanitize(string? entry)
    {
        if (entry is null)
        {
            return "(null)";
        }

        var at = entry.LastIndexOf('@');
        var text = at >= 0 ? "***" + entry[at..] : entry;
        if (text.Length > 64)
        {
            text = text[..64] + "...";
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = char.IsControl(source[i]) ? '?' : source[i];
            }
        });
    }

    private sealed class Entry(NatsUri uri)
    {
        public NatsUri Uri { get; } = uri;
        public int Failures { get; set; }
        public int CredentialRefusals { get; set; }
    }
}

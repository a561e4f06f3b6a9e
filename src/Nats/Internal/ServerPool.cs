namespace CacheProvider.Nats.Internal;

/// <summary>Known servers: the seeds plus what the cluster announced, with failure counts for reconnects.</summary>
internal sealed class ServerPool
{
    private readonly object _lock = new();
    private readonly List<Entry> _servers = [];
    private readonly bool _tls;
    private int _current = -1;

    public ServerPool(IReadOnlyList<NatsUri> seeds)
    {
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

    /// <summary>Servers in the order to try: the one after the current first, so a dead server is tried last.</summary>
    public List<NatsUri> Order(int maxAttempts)
    {
        lock (_lock)
        {
            var list = new List<NatsUri>(_servers.Count);
            for (var i = 1; i <= _servers.Count; i++)
            {
                var e = _servers[(_current + i + _servers.Count) % _servers.Count];
                if (maxAttempts < 0 || e.Failures < maxAttempts)
                {
                    list.Add(e.Uri);
                }
            }

            return list;
        }
    }

    public void Succeeded(NatsUri uri)
    {
        lock (_lock)
        {
            var i = _servers.FindIndex(e => e.Uri.Equals(uri));
            if (i >= 0)
            {
                _servers[i].Failures = 0;
                _current = i;
            }
        }
    }

    public void Failed(NatsUri uri)
    {
        lock (_lock)
        {
            var e = _servers.Find(x => x.Uri.Equals(uri));
            if (e is not null)
            {
                e.Failures++;
            }
        }
    }

    /// <summary>Adds servers from INFO <c>connect_urls</c> (host:port, no scheme).</summary>
    public void AddDiscovered(string[]? urls)
    {
        if (urls is null)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var url in urls)
            {
                NatsUri uri;
                try
                {
                    uri = NatsUri.Parse((_tls ? "tls://" : "nats://") + url);
                }
                catch (ArgumentException)
                {
                    continue;
                }

                if (!_servers.Exists(e => e.Uri.Equals(uri)))
                {
                    _servers.Add(new Entry(uri));
                }
            }
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

    private sealed class Entry(NatsUri uri)
    {
        public NatsUri Uri { get; } = uri;
        public int Failures { get; set; }
    }
}

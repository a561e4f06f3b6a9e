namespace CacheProvider.Nats;

/// <summary>Where a <see cref="NatsConnection"/> is in its life.</summary>
public enum NatsConnectionState
{
    /// <summary>Created, not yet connected.</summary>
    New,

    /// <summary>Making the first connection.</summary>
    Connecting,

    /// <summary>Connected to a server.</summary>
    Connected,

    /// <summary>The connection was lost; the client is trying the known servers and buffering publishes.</summary>
    Reconnecting,

    /// <summary>Closed for good.</summary>
    Closed,
}

/// <summary>A change of the connection's state.</summary>
public sealed class NatsConnectionEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    public NatsConnectionEventArgs(string? server, Exception? error)
    {
        Server = server;
        Error = error;
    }

    /// <summary>The server involved, without credentials.</summary>
    public string? Server { get; }

    /// <summary>Why the connection was lost or closed, if it was an error.</summary>
    public Exception? Error { get; }
}

/// <summary>A problem that did not end the connection: a server <c>-ERR</c>, a refused subject, a slow consumer.</summary>
public sealed class NatsErrorEventArgs : EventArgs
{
    /// <summary>Creates the arguments.</summary>
    public NatsErrorEventArgs(Exception error) => Error = error;

    /// <summary>The error.</summary>
    public Exception Error { get; }
}

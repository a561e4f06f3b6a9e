using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheProvider.Nats;

/// <summary>Settings of a <see cref="NatsConnection"/>. Immutable once the connection is created.</summary>
public sealed record NatsOptions
{
    /// <summary>
    /// Seed servers, comma separated: <c>nats://host:4222</c>, <c>tls://host:4222</c>,
    /// <c>nats://user:password@host:4222</c> or <c>nats://token@host:4222</c>. Servers announced by the
    /// cluster (<c>connect_urls</c>) are added as they arrive.
    /// </summary>
    public string Url { get; init; } = "nats://127.0.0.1:4222";

    /// <summary>Client name shown by the server's monitoring.</summary>
    public string? Name { get; init; }

    /// <summary>User name; overrides one given in the URL.</summary>
    public string? User { get; init; }

    /// <summary>Password; overrides one given in the URL. Never logged.</summary>
    public string? Password { get; init; }

    /// <summary>Authentication token; overrides one given in the URL. Never logged.</summary>
    public string? Token { get; init; }

    /// <summary>TLS settings. TLS is used when a URL says <c>tls://</c>, when these are set, or when the server requires it.</summary>
    public NatsTlsOptions? Tls { get; init; }

    /// <summary>How long one connection attempt (TCP, TLS and the CONNECT handshake) may take.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Default timeout of requests that do not pass their own.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How often the client pings an idle server to detect a dead connection.</summary>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Unanswered pings after which the connection is considered stale and is replaced.</summary>
    public int MaxPingsOutstanding { get; init; } = 2;

    /// <summary>Base delay between rounds of reconnect attempts over all known servers.</summary>
    public TimeSpan ReconnectWait { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Upper bound of the random delay added to each reconnect wait.</summary>
    public TimeSpan ReconnectJitter { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Longest wait between reconnect rounds; the wait doubles from <see cref="ReconnectWait"/> up to this.</summary>
    public TimeSpan MaxReconnectWait { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Reconnect attempts per server before giving up and closing; -1 retries forever.</summary>
    public int MaxReconnectAttempts { get; init; } = -1;

    /// <summary>
    /// Bytes of outgoing commands the client buffers (while the socket is busy or while reconnecting)
    /// before publishers wait. Bounds memory and provides backpressure.
    /// </summary>
    public int MaxPendingBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>Messages a subscription buffers for a slow reader before it drops (and reports slow consumer).</summary>
    public int SubscriptionCapacity { get; init; } = 65_536;

    /// <summary>Prefix of reply inboxes.</summary>
    public string InboxPrefix { get; init; } = "_INBOX";

    /// <summary>Logging.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    /// <summary>Validates the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Url))
        {
            throw new ArgumentException("At least one server URL is required", nameof(Url));
        }

        _ = Internal.NatsUri.ParseList(Url);
        Positive(ConnectTimeout, nameof(ConnectTimeout));
        Positive(RequestTimeout, nameof(RequestTimeout));
        Positive(PingInterval, nameof(PingInterval));
        Positive(ReconnectWait, nameof(ReconnectWait));
        if (ReconnectJitter < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(ReconnectJitter), ReconnectJitter, "must not be negative");
        }

        if (MaxReconnectWait < TimeSpan.Zero)
        {
            // Task.Delay would throw inside the reconnect loop, ending it and leaving the connection reconnecting forever.
            throw new ArgumentOutOfRangeException(nameof(MaxReconnectWait), MaxReconnectWait, "must not be negative");
        }

        if (MaxReconnectAttempts < -1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReconnectAttempts), MaxReconnectAttempts, "must be -1 (forever) or more");
        }

        if (MaxPingsOutstanding < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPingsOutstanding), MaxPingsOutstanding, "must be at least 1");
        }

        if (MaxPendingBytes < 64 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPendingBytes), MaxPendingBytes, "must be at least 64 KiB");
        }

        if (SubscriptionCapacity < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SubscriptionCapacity), SubscriptionCapacity, "must be at least 1");
        }

        // Inboxes are "<prefix>.<token>": an empty token or a wildcard would make the server refuse the inbox SUB.
        if (string.IsNullOrWhiteSpace(InboxPrefix) || InboxPrefix.AsSpan().IndexOfAny(InvalidInboxChars) >= 0 ||
            InboxPrefix.StartsWith('.') || InboxPrefix.EndsWith('.') || InboxPrefix.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException("Inbox prefix must be a plain subject prefix", nameof(InboxPrefix));
        }
    }

    private static readonly System.Buffers.SearchValues<char> InvalidInboxChars = System.Buffers.SearchValues.Create(" \t\r\n*>");

    private static void Positive(TimeSpan value, string name)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(name, value, "must be positive");
        }
    }

    /// <summary>Credentials are left out so that options can be logged.</summary>
    public override string ToString() =>
        $"NatsOptions {{ Url = {Internal.NatsUri.Redact(Url)}, Name = {Name}, User = {(User is null ? "" : "***")}, Tls = {(Tls is null ? "off" : "on")} }}";
}

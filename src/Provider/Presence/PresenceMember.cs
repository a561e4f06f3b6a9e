namespace CacheProvider.Presence;

/// <summary>A member that is online (see <see cref="IPresenceTracker.GetOnlineAsync"/>).</summary>
public sealed record PresenceMember
{
    /// <summary>Group.</summary>
    public required string Group { get; init; }

    /// <summary>Member name.</summary>
    public required string Member { get; init; }

    /// <summary>When its last heartbeat was stored (server time).</summary>
    public DateTimeOffset LastSeen { get; init; }

    /// <summary>When it goes offline unless it sends another heartbeat.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The info it sent with its last heartbeat.</summary>
    public ReadOnlyMemory<byte> Info { get; init; }
}

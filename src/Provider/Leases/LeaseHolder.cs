namespace CacheProvider.Leases;

/// <summary>Who holds a lock right now (see <see cref="ILeaseManager.GetHolderAsync"/>).</summary>
public sealed record LeaseHolder
{
    /// <summary>The lock name.</summary>
    public required string Name { get; init; }

    /// <summary>The holder's <see cref="LeaseOptions.Owner"/>.</summary>
    public required string Owner { get; init; }

    /// <summary>The KV revision of the holder's last acquire or renewal (not its fencing token once it renewed).</summary>
    public ulong Revision { get; init; }

    /// <summary>When the lease runs out unless renewed (server time).</summary>
    public DateTimeOffset? ExpiresAt { get; init; }
}

namespace CacheProvider.Leases;

/// <summary>Why a lease was lost.</summary>
public enum LeaseLostReason
{
    /// <summary>Renewals kept failing (server unreachable) until the lease's TTL ran out.</summary>
    RenewalFailed,

    /// <summary>The key expired before a renewal reached the server (the holder stalled longer than the TTL).</summary>
    Expired,

    /// <summary>Another holder acquired the lock after it had expired.</summary>
    TakenOver,

    /// <summary>Someone else deleted or purged the key.</summary>
    Removed,
}

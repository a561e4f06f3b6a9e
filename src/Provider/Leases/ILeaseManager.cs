namespace CacheProvider.Leases;

/// <summary>Leased locks on a NATS KV bucket with per-key TTL: they free themselves when the holder dies.</summary>
public interface ILeaseManager
{
    /// <summary>Takes the lock if it is free right now.</summary>
    /// <param name="name">Lock name; any non-empty string (names that are not valid KV keys are encoded).</param>
    /// <param name="ttl">Lease TTL (whole seconds, rounded up, at least 1 s); default <see cref="LeaseOptions.DefaultTtl"/>.</param>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The lease, or null when someone else holds the lock.</returns>
    /// <exception cref="ArgumentException">Empty name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">TTL below 1 s.</exception>
    Task<Lease?> TryAcquireAsync(string name, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the lock, waiting up to <paramref name="timeout"/> while someone else holds it. Waiting watches the key
    /// and wakes when the holder releases it or the server writes its expiry marker (no polling).
    /// </summary>
    /// <param name="name">Lock name.</param>
    /// <param name="timeout">How long to wait; <see cref="Timeout.InfiniteTimeSpan"/> waits until cancelled.</param>
    /// <param name="ttl">Lease TTL; default <see cref="LeaseOptions.DefaultTtl"/>.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <exception cref="TimeoutException">The lock stayed taken for <paramref name="timeout"/>.</exception>
    /// <exception cref="ArgumentException">Empty name.</exception>
    /// <exception cref="ArgumentOutOfRangeException">TTL below 1 s or a negative timeout.</exception>
    Task<Lease> AcquireAsync(string name, TimeSpan timeout, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>The current holder of a lock, or null when it is free.</summary>
    Task<LeaseHolder?> GetHolderAsync(string name, CancellationToken cancellationToken = default);
}

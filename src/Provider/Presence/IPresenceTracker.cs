namespace CacheProvider.Presence;

/// <summary>
/// Presence on a NATS KV bucket with per-key TTL: a member is online while its heartbeats arrive; watchers learn of
/// it going offline from the server's expiry marker or from an explicit leave, with the reason.
/// </summary>
public interface IPresenceTracker
{
    /// <summary>
    /// Marks the member online and keeps it so with automatic heartbeats until the returned registration is disposed
    /// (which leaves explicitly). If the process dies, the member goes offline after the TTL.
    /// </summary>
    /// <param name="group">Group (any non-empty string; encoded when not a valid key token).</param>
    /// <param name="member">Member name (any non-empty string).</param>
    /// <param name="info">Small payload watchers and listings see (at most <see cref="PresenceOptions.MaxInfoBytes"/>).</param>
    /// <param name="ttl">Heartbeat TTL; default <see cref="PresenceOptions.Ttl"/>.</param>
    /// <param name="cancellationToken">Cancels the first heartbeat.</param>
    Task<PresenceRegistration> JoinAsync(string group, string member, ReadOnlyMemory<byte> info = default, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>One heartbeat, for callers that drive heartbeats themselves (e.g. on behalf of devices).</summary>
    /// <returns>The KV revision written.</returns>
    Task<ulong> HeartbeatAsync(string group, string member, ReadOnlyMemory<byte> info = default, TimeSpan? ttl = null, CancellationToken cancellationToken = default);

    /// <summary>Marks the member offline now (watchers see reason <see cref="PresenceChangeReason.Left"/>).</summary>
    Task LeaveAsync(string group, string member, CancellationToken cancellationToken = default);

    /// <summary>Members of <paramref name="group"/> that are online now.</summary>
    Task<IReadOnlyList<PresenceMember>> GetOnlineAsync(string group, CancellationToken cancellationToken = default);

    /// <summary>
    /// Online/offline changes of <paramref name="group"/>: first an online change for every member online when the watch
    /// starts, then every transition (heartbeats of members already online are not repeated).
    /// </summary>
    IAsyncEnumerable<PresenceChange> WatchAsync(string group, CancellationToken cancellationToken = default);
}

namespace CacheProvider.Sessions;

/// <summary>A session that ended, reported from the server's expiry markers and removals.</summary>
/// <param name="SessionKey">The session key (the value ASP.NET Core's session cookie protects).</param>
/// <param name="Reason">Idle timeout or removal.</param>
/// <param name="Revision">The KV revision of the marker.</param>
/// <param name="Timestamp">When the server recorded the end.</param>
public sealed record SessionEnded(string SessionKey, SessionEndReason Reason, ulong Revision, DateTimeOffset Timestamp);

namespace CacheProvider.Sessions;

/// <summary>Why a session ended.</summary>
public enum SessionEndReason
{
    /// <summary>Nobody used it for its idle timeout: the server expired it and wrote an expiry marker.</summary>
    IdleTimeout,

    /// <summary>It was removed: the app cleared it (logout), called <see cref="NatsSessionStore.RemoveAsync"/>, or an operator deleted/purged it.</summary>
    Removed,
}

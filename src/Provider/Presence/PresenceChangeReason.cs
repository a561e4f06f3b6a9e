namespace CacheProvider.Presence;

/// <summary>Why a presence change happened.</summary>
public enum PresenceChangeReason
{
    /// <summary>A heartbeat of a member not known to be online (first one, or the first seen by this watch).</summary>
    Joined,

    /// <summary>Heartbeats stopped and the server expired the key (its expiry marker).</summary>
    Expired,

    /// <summary>The member left explicitly (<see cref="IPresenceTracker.LeaveAsync"/>), or its key was deleted.</summary>
    Left,
}

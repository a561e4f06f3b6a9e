namespace CacheProvider.Presence;

/// <summary>Direction of a presence change.</summary>
public enum PresenceChangeKind
{
    /// <summary>The member came online (or was online when the watch started).</summary>
    Online,

    /// <summary>The member went offline.</summary>
    Offline,
}

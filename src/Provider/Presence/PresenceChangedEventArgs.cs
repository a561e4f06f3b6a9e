namespace CacheProvider.Presence;

/// <summary>Data of the <see cref="PresenceMonitor"/> events.</summary>
public sealed class PresenceChangedEventArgs(PresenceChange change) : EventArgs
{
    /// <summary>The change.</summary>
    public PresenceChange Change { get; } = change;
}

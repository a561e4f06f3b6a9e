namespace CacheProvider.Operations;

/// <summary>How bad a KV hygiene finding is.</summary>
public enum KvFindingSeverity
{
    /// <summary>Worth knowing; nothing to do yet.</summary>
    Info,

    /// <summary>Grows into a problem (memory, restart time) if left alone.</summary>
    Warning,

    /// <summary>Wrong now: data kept forever, values resurrected, or a server that mishandles TTLs.</summary>
    Error,
}

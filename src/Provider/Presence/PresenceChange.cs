namespace CacheProvider.Presence;

/// <summary>One member going online or offline, as seen by a watch.</summary>
public sealed record PresenceChange
{
    /// <summary>Group.</summary>
    public required string Group { get; init; }

    /// <summary>Member name.</summary>
    public required string Member { get; init; }

    /// <summary>Online or offline.</summary>
    public PresenceChangeKind Kind { get; init; }

    /// <summary>Why.</summary>
    public PresenceChangeReason Reason { get; init; }

    /// <summary>When the server stored the revision that caused the change.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>The KV revision that caused the change.</summary>
    public ulong Revision { get; init; }

    /// <summary>The member's info (online changes only).</summary>
    public ReadOnlyMemory<byte> Info { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"{Group}/{Member} {Kind} ({Reason})";
}

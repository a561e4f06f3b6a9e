namespace CacheProvider.KeyValue;

/// <summary>How a watch starts and what it delivers.</summary>
public sealed record KvWatchOptions
{
    /// <summary>Deliver every stored revision first, not just the latest per key.</summary>
    public bool IncludeHistory { get; init; }

    /// <summary>Deliver only changes made after the watch started.</summary>
    public bool UpdatesOnly { get; init; }

    /// <summary>Deliver headers only (values empty; <see cref="KvEntry.ValueLength"/> still set).</summary>
    public bool HeadersOnly { get; init; }

    /// <summary>Resume after this revision (deliver revisions greater than it); 0 = not resuming.</summary>
    public ulong ResumeAfterRevision { get; init; }

    /// <summary>Skip delete/purge tombstones and markers.</summary>
    public bool IgnoreDeletes { get; init; }

    /// <summary>Server heartbeat interval; a silent server is detected after three.</summary>
    public TimeSpan IdleHeartbeat { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Called (on the watch loop) when the underlying consumer had to be recreated: after a gap, missed
    /// heartbeats or a reconnect. The watch itself resumes without skipping revisions; a cache that must never
    /// serve stale data drops what it holds here. A latest-values watch (neither history nor updates only) interrupted
    /// during its initial snapshot takes the snapshot again and delivers only keys it has not delivered yet or that
    /// changed since: never a superseded revision, never an older revision of a key than one already delivered.
    /// </summary>
    public Action<string>? OnResync { get; init; }
}

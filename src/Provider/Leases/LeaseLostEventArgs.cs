namespace CacheProvider.Leases;

/// <summary>Data of <see cref="Lease.Lost"/>.</summary>
public sealed class LeaseLostEventArgs(string name, ulong fencingToken, LeaseLostReason reason, Exception? error) : EventArgs
{
    /// <summary>The lock name.</summary>
    public string Name { get; } = name;

    /// <summary>The fencing token of the lost lease.</summary>
    public ulong FencingToken { get; } = fencingToken;

    /// <summary>Why it was lost.</summary>
    public LeaseLostReason Reason { get; } = reason;

    /// <summary>The last renewal error, when renewals were failing.</summary>
    public Exception? Error { get; } = error;
}

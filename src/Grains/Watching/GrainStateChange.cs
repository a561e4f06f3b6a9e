namespace CacheProvider.Grains;

/// <summary>Why a watched state's callback fired.</summary>
public enum GrainStateChangeKind
{
    /// <summary>The state's TTL ran out (the server's expiry marker).</summary>
    Expired,

    /// <summary>Deleted or purged by someone else (another silo, an operator), or removed by the server.</summary>
    Removed,

    /// <summary>Written by someone else: the activation's copy is stale.</summary>
    WrittenElsewhere,

    /// <summary>Anything may have changed (not sent by <see cref="GrainStateWatcher"/> today: after a watch gap it re-reads every watched key and reports what changed).</summary>
    Resync,
}

/// <summary>One notification to a registered activation or cache.</summary>
/// <param name="StateKey">The KV key of the state (see <see cref="NatsGrainStorage.GetStateKey"/>).</param>
/// <param name="Kind">What happened.</param>
/// <param name="Revision">The revision that caused it (0 for <see cref="GrainStateChangeKind.Resync"/>).</param>
/// <param name="Detail">For a resync, the reason.</param>
public readonly record struct GrainStateChange(string StateKey, GrainStateChangeKind Kind, ulong Revision, string? Detail);

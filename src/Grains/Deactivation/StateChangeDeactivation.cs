namespace CacheProvider.Grains;

/// <summary>
/// Which activations a <see cref="NatsGrainStorage"/> deactivates when the state they read from it expires, is removed,
/// or is written by someone else (<see cref="NatsGrainStorageOptions.DeactivateOnStateChange"/>).
/// </summary>
public enum StateChangeDeactivation
{
    /// <summary>
    /// States that can expire: a TTL configured for the state name or type (<see cref="NatsGrainStorageOptions.StateTtls"/>,
    /// <see cref="StateTtlAttribute"/>, <see cref="NatsGrainStorageOptions.DefaultStateTtl"/>) or a state type that
    /// carries its own (<see cref="IStateTimeToLive"/>). The default.
    /// </summary>
    Auto,

    /// <summary>Every state read from the storage, with or without a TTL.</summary>
    Always,

    /// <summary>None (the storage opens no watch unless its <see cref="NatsGrainStorage.Watcher"/> is used by hand).</summary>
    Never,
}

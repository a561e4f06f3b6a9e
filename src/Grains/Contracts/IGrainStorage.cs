namespace CacheProvider.Grains.Contracts;

/// <summary>
/// Mirror of <c>Orleans.Storage.IGrainStorage</c> (v10 main, with the cancellation overloads).
/// The state name is <c>"state"</c> for <c>Grain&lt;T&gt;</c> or the <c>[PersistentState]</c> name.
/// </summary>
public interface IGrainStorage
{
    /// <summary>Reads the state into <paramref name="grainState"/> (ETag, RecordExists and State are replaced).</summary>
    Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState);

    /// <summary>Writes the state; fails with <see cref="InconsistentStateException"/> on an ETag conflict.</summary>
    Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState);

    /// <summary>Clears the state; fails with <see cref="InconsistentStateException"/> on an ETag conflict.</summary>
    Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState);

    /// <summary>Cancellable read (the default forwards to the overload without a token).</summary>
    Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
        => ReadStateAsync(stateName, grainId, grainState);

    /// <summary>Cancellable write (the default forwards to the overload without a token).</summary>
    Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
        => WriteStateAsync(stateName, grainId, grainState);

    /// <summary>Cancellable clear (the default forwards to the overload without a token).</summary>
    Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState, CancellationToken cancellationToken)
        => ClearStateAsync(stateName, grainId, grainState);
}

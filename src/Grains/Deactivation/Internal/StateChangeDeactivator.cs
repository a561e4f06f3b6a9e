using Orleans.Runtime;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// The part of a <see cref="NatsGrainStorage"/> that attaches the activation a read is for (<see cref="IGrainContextAccessor"/>)
/// to the storage's <see cref="GrainStateWatcher"/>: only reads of the activation's own state (same grain id), of a
/// state the <see cref="DeactivationPolicy"/> watches, by an activation without <see cref="KeepActivationOnStateChangeAttribute"/>.
/// </summary>
internal sealed class StateChangeDeactivator
{
    private readonly NatsGrainStorage _storage;
    private readonly IGrainContextAccessor _accessor;
    private readonly DeactivationPolicy _policy;

    public StateChangeDeactivator(NatsGrainStorage storage, IGrainContextAccessor accessor, DeactivationPolicy policy)
    {
        _storage = storage;
        _accessor = accessor;
        _policy = policy;
    }

    /// <summary>The silo's configurator, which tells which activations their lifecycle detaches (set by the factory).</summary>
    public ActivationWatchConfigurator? Configurator { get; set; }

    /// <summary>Registers the current activation for the state when it should be; true when it is registered.</summary>
    public bool TryAttach<T>(string stateName, GrainId grainId)
    {
        if (_accessor.GrainContext is not { } context || !context.GrainId.Equals(grainId) || !_policy.ShouldWatch(stateName, typeof(T))
            || context.GetComponent<KeepActivationMarker>() is not null)
        {
            return false;
        }

        var byLifecycle = Configurator?.CoveredByLifecycle(grainId.Type, _storage, stateName) ?? false;
        ActivationStateWatch.Attach(context, _storage.Watcher, _storage.GetStateKey(stateName, grainId), byLifecycle);
        return true;
    }

    /// <summary>Ends the registration of <paramref name="context"/> for <paramref name="stateName"/> (its lifecycle stopped).</summary>
    public void Detach(string stateName, IGrainContext context)
    {
        if (_storage.CurrentWatcher is { } watcher)
        {
            watcher.Unregister(_storage.GetStateKey(stateName, context.GrainId), context);
        }
    }
}

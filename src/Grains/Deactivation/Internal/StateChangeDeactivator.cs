using Microsoft.Extensions.Logging;
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
    private readonly ILogger _logger;

    public StateChangeDeactivator(NatsGrainStorage storage, IGrainContextAccessor accessor, DeactivationPolicy policy, ILogger logger)
    {
        _storage = storage;
        _accessor = accessor;
        _policy = policy;
        _logger = logger;
    }

    /// <summary>Registers the current activation for the state when it should be; true when it is registered.</summary>
    public bool TryAttach<T>(string stateName, GrainId grainId)
    {
        if (_accessor.GrainContext is not { } context || !context.GrainId.Equals(grainId) || !_policy.ShouldWatch(stateName, typeof(T))
            || context.GetComponent<KeepActivationMarker>() is not null)
        {
            return false;
        }

        ActivationStateWatch.Attach(context, _storage.Watcher, stateName, _storage.GetStateKey(stateName, grainId), _logger);
        return true;
    }
}

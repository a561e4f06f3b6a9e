using System.Collections.Concurrent;
using System.Reflection;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// Whether reads of a state (name, type) are watched for deactivation: <see cref="NatsGrainStorageOptions.DeactivateOnStateChangeByState"/>,
/// then <see cref="DeactivateOnStateChangeAttribute"/> on the type, then <see cref="NatsGrainStorageOptions.DeactivateOnStateChange"/>
/// (Auto: the state can expire). Cached per (name, type): no reflection on the read path after the first read.
/// </summary>
internal sealed class DeactivationPolicy
{
    private readonly NatsGrainStorageOptions _options;
    private readonly StateTtlResolver _ttl;
    private readonly ConcurrentDictionary<(string, Type), bool> _cache = new();

    public DeactivationPolicy(NatsGrainStorageOptions options, StateTtlResolver ttl)
    {
        _options = options;
        _ttl = ttl;
    }

    /// <summary>Whether any state could be watched (so the storage opens its watch with the silo).</summary>
    public bool AnyEnabled => _options.DeactivateOnStateChange != StateChangeDeactivation.Never || _options.DeactivateOnStateChangeByState.ContainsValue(true);

    public bool ShouldWatch(string stateName, Type stateType)
    {
        if (_cache.TryGetValue((stateName, stateType), out var cached))
        {
            return cached;
        }

        var watch = _options.DeactivateOnStateChangeByState.TryGetValue(stateName, out var byName) ? byName
            : stateType.GetCustomAttribute<DeactivateOnStateChangeAttribute>(inherit: true) is { } attribute ? attribute.Enabled
            : _options.DeactivateOnStateChange switch
            {
                StateChangeDeactivation.Always => true,
                StateChangeDeactivation.Never => false,
                _ => _ttl.GetWindow(stateName, stateType) is not null || typeof(IStateTimeToLive).IsAssignableFrom(stateType),
            };
        _cache[(stateName, stateType)] = watch;
        return watch;
    }
}

using System.Collections.Concurrent;
using System.Reflection;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// Resolves the TTL window of a (state name, state type): <see cref="NatsGrainStorageOptions.StateTtls"/>, then
/// <see cref="StateTtlAttribute"/> on the type, then <see cref="NatsGrainStorageOptions.DefaultStateTtl"/>.
/// Cached per pair so the hot path does no reflection.
/// </summary>
internal sealed class StateTtlResolver
{
    private readonly NatsGrainStorageOptions _options;
    private readonly ConcurrentDictionary<(string, Type), TimeSpan?> _cache = new();

    public StateTtlResolver(NatsGrainStorageOptions options) => _options = options;

    /// <summary>The TTL window (what a client is promised), or null.</summary>
    public TimeSpan? GetWindow(string stateName, Type stateType)
    {
        if (_cache.TryGetValue((stateName, stateType), out var cached))
        {
            return cached;
        }

        TimeSpan? window = _options.StateTtls.TryGetValue(stateName, out var byName) ? byName
            : stateType.GetCustomAttribute<StateTtlAttribute>(inherit: true)?.TimeToLive ?? _options.DefaultStateTtl;
        _cache[(stateName, stateType)] = window;
        return window;
    }

    /// <summary>
    /// The Nats-TTL written for a window: the window, or window × (1 + fraction) with refresh-on-read; rounded up to
    /// whole seconds (the server truncates) and at least 1 s.
    /// </summary>
    public TimeSpan ToStoredTtl(TimeSpan window)
    {
        var ticks = _options.RefreshTtlOnRead ? window.Ticks * (1 + _options.RenewalFraction) : window.Ticks;
        var seconds = Math.Max(1, (long)Math.Ceiling(ticks / TimeSpan.TicksPerSecond));
        return TimeSpan.FromSeconds(seconds);
    }
}

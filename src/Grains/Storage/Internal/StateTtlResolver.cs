using System.Collections.Concurrent;
using System.Reflection;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// Resolves the TTL window of a state: the state's own <see cref="IStateTimeToLive.TimeToLive"/>, else
/// <see cref="NatsGrainStorageOptions.StateTtls"/>, then <see cref="StateTtlAttribute"/> on the type, then
/// <see cref="NatsGrainStorageOptions.DefaultStateTtl"/>. The configured part is cached per (name, type) so the hot
/// path does no reflection.
/// </summary>
internal sealed class StateTtlResolver
{
    private readonly NatsGrainStorageOptions _options;
    private readonly ConcurrentDictionary<(string, Type), TimeSpan?> _cache = new();

    public StateTtlResolver(NatsGrainStorageOptions options) => _options = options;

    /// <summary>The configured TTL window (what a client is promised) of a state name and type, or null.</summary>
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
    /// The TTL window of <paramref name="state"/> (its own TTL, else the configured one), or null when it never expires.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The state's own TTL is zero or negative (and not infinite).</exception>
    public TimeSpan? GetWindow<T>(string stateName, T? state)
    {
        if (state is IStateTimeToLive { TimeToLive: { } own })
        {
            if (own == Timeout.InfiniteTimeSpan)
            {
                return null;
            }

            if (own <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(state), own, $"IStateTimeToLive.TimeToLive of state '{stateName}' must be positive, Timeout.InfiniteTimeSpan (never) or null (the configured TTL).");
            }

            return own;
        }

        return GetWindow(stateName, typeof(T));
    }

    /// <summary>Like <see cref="GetWindow{T}(string, T)"/>, but a state's invalid own TTL gives null instead of throwing (reads never fail on it).</summary>
    public TimeSpan? TryGetWindow<T>(string stateName, T? state) =>
        state is IStateTimeToLive { TimeToLive: { } own } && own != Timeout.InfiniteTimeSpan && own <= TimeSpan.Zero ? null : GetWindow(stateName, state);

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

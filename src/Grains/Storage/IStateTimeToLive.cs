namespace CacheProvider.Grains;

/// <summary>
/// A grain state that carries its own TTL in a <see cref="NatsGrainStorage"/>, so two grains of one type (or one grain
/// from one write to the next) can live for different times. Implement it on the state type; the storage reads it
/// from the state it writes:
/// <list type="bullet">
/// <item><description><b>Write</b>: <c>WriteStateAsync</c> stores the state with its <see cref="TimeToLive"/> as the
/// key's server TTL (<c>Nats-TTL</c>), rounded up to whole seconds and at least 1 s. Null falls back to the TTL
/// configured for the state name or type (<see cref="NatsGrainStorageOptions.StateTtls"/>,
/// <see cref="StateTtlAttribute"/>, <see cref="NatsGrainStorageOptions.DefaultStateTtl"/>);
/// <see cref="Timeout.InfiniteTimeSpan"/> means "never expires", even when a TTL is configured. Zero or negative
/// is refused with <see cref="ArgumentOutOfRangeException"/> before anything is written.</description></item>
/// <item><description><b>Read</b>: the state's TTL replaces the configured one in every rule that uses it. With
/// <see cref="NatsGrainStorageOptions.RefreshTtlOnRead"/> the write stores TTL × (1 + RenewalFraction) and a read
/// renews the key (with the TTL of the state it read) when less than that TTL remains. Past its TTL the state reads as
/// never written (ETag null).</description></item>
/// <item><description><b>Clear</b>: with <see cref="NatsGrainStorageOptions.DeleteStateOnClear"/> the purge
/// tombstone lives <see cref="NatsGrainStorageOptions.DeleteTombstoneTtl"/> as before; otherwise the retained tombstone
/// carries the TTL of the state being cleared (the <c>State</c> the clear is given), so a short-lived state does not
/// leave a tombstone forever.</description></item>
/// </list>
/// </summary>
/// <example>
/// <code>
/// public sealed class OrderState : IStateTimeToLive
/// {
///     public string Status { get; set; } = "open";
///     public TimeSpan? TimeToLive => Status == "closed" ? TimeSpan.FromDays(365) : null; // keep closed orders a year
/// }
/// </code>
/// </example>
public interface IStateTimeToLive
{
    /// <summary>
    /// This state's TTL: positive, <see cref="Timeout.InfiniteTimeSpan"/> for never, or null for the TTL configured
    /// for the state name or type.
    /// </summary>
    TimeSpan? TimeToLive { get; }
}

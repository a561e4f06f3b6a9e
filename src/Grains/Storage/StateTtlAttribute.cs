using System.Globalization;

namespace CacheProvider.Grains;

/// <summary>Gives every state of this type a TTL (unless <see cref="NatsGrainStorageOptions.StateTtls"/> names the state).</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = true)]
public sealed class StateTtlAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="timeToLive">A <see cref="TimeSpan"/> string, e.g. <c>"00:20:00"</c>.</param>
    public StateTtlAttribute(string timeToLive)
    {
        TimeToLive = TimeSpan.Parse(timeToLive, CultureInfo.InvariantCulture);
    }

    /// <summary>The TTL.</summary>
    public TimeSpan TimeToLive { get; }
}

using Orleans.Metadata;
using Orleans.Runtime;

namespace CacheProvider.Grains;

/// <summary>
/// On a grain class: its activations are never deactivated by a <see cref="NatsGrainStorage"/> when a state they read
/// expires, is removed or is written elsewhere. The activation keeps serving the copy it holds (and a later write with
/// its stale ETag fails with <c>InconsistentStateException</c>, as with any Orleans storage). Read like Orleans'
/// own class attributes (<c>[MayInterleave]</c>): a grain property the silo attaches to each new activation.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = true)]
public sealed class KeepActivationOnStateChangeAttribute : Attribute, IGrainPropertiesProviderAttribute
{
    /// <summary>The grain property this attribute sets.</summary>
    internal const string PropertyKey = "cacheprovider.nats.keep-activation-on-state-change";

    /// <inheritdoc />
    public void Populate(IServiceProvider services, Type grainClass, GrainType grainType, Dictionary<string, string> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        properties[PropertyKey] = "true";
    }
}

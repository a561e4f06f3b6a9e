using Orleans.Metadata;
using Orleans.Runtime;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// Marks each new activation of a grain type carrying <see cref="KeepActivationOnStateChangeAttribute"/> (its grain
/// property) with <see cref="KeepActivationMarker"/>, which the storage looks for before it watches a state. Runs before
/// the activation starts, so the marker is there when its state is read.
/// </summary>
internal sealed class KeepActivationConfigurator : IConfigureGrainContextProvider, IConfigureGrainContext
{
    public bool TryGetConfigurator(GrainType grainType, GrainProperties properties, out IConfigureGrainContext configurator)
    {
        ArgumentNullException.ThrowIfNull(properties);
        if (properties.Properties.ContainsKey(KeepActivationOnStateChangeAttribute.PropertyKey))
        {
            configurator = this;
            return true;
        }

        configurator = null!;
        return false;
    }

    public void Configure(IGrainContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.SetComponent(KeepActivationMarker.Instance);
    }
}

/// <summary>The component that says "never deactivate this activation on a state change".</summary>
internal sealed class KeepActivationMarker
{
    public static readonly KeepActivationMarker Instance = new();
}

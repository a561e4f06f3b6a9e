namespace CacheProvider.Grains;

/// <summary>
/// Per state type: whether an activation that read a state of this type from a <see cref="NatsGrainStorage"/> is
/// deactivated when that state expires, is removed, or is written by someone else — whatever the storage's
/// <see cref="NatsGrainStorageOptions.DeactivateOnStateChange"/> says. A state name listed in
/// <see cref="NatsGrainStorageOptions.DeactivateOnStateChangeByState"/> wins over this attribute.
/// </summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = true)]
public sealed class DeactivateOnStateChangeAttribute : Attribute
{
    /// <summary>Creates the attribute.</summary>
    /// <param name="enabled">true: deactivate on a change; false: never for this state type.</param>
    public DeactivateOnStateChangeAttribute(bool enabled = true) => Enabled = enabled;

    /// <summary>Whether activations that read this state type are deactivated on a change.</summary>
    public bool Enabled { get; }
}

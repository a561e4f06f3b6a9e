namespace CacheProvider.Grains;

/// <summary>The decoded tokens of a <see cref="NatsGrainStorage"/> key (see <see cref="NatsGrainStateKeys.TryParse"/>).</summary>
/// <param name="ServiceId">The service id (first token).</param>
/// <param name="StateName">The state name.</param>
/// <param name="GrainType">The grain type, as <c>GrainType.ToString()</c> writes it.</param>
/// <param name="GrainKey">The grain key, as <c>GrainId.Key.ToString()</c> writes it (for a string-keyed grain: the string); null when it was too long and is stored hashed.</param>
public readonly record struct NatsGrainStateKey(string ServiceId, string StateName, string GrainType, string? GrainKey);

using System.Text;
using CacheProvider.Grains.Internal;
using Orleans.Runtime;

namespace CacheProvider.Grains;

/// <summary>
/// The KV key scheme of <see cref="NatsGrainStorage"/>, public so that other processes (an Orleans client that watches
/// the bucket, a tool) can compute and read the keys: <c>{serviceId}.{stateName}.{grainType}.{grainKey}</c>, where
/// every token is encoded injectively and without dots — <c>[A-Za-z0-9-/]</c> stay as they are, every other UTF-16
/// code unit becomes <c>_XXXX</c> (uppercase hex), the empty string is <c>_</c> — so a token never runs into the next
/// and a <c>*</c> wildcard matches exactly one token. A token whose encoding would exceed <see cref="MaxTokenLength"/>
/// characters is stored as <c>=</c> + SHA-256 (hex) of its UTF-16 code units: such a token cannot be decoded.
/// </summary>
public static class NatsGrainStateKeys
{
    /// <summary>Longest encoded token kept verbatim; longer ones are stored hashed.</summary>
    public const int MaxTokenLength = KeyEncoder.MaxTokenLength;

    /// <summary>The encoding of <paramref name="value"/> as one key token.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="value"/> is null.</exception>
    public static string EncodeToken(string value) => KeyEncoder.EncodeToken(value);

    /// <summary>Decodes one token; false for a hashed (overlong) or malformed token.</summary>
    public static bool TryDecodeToken(ReadOnlySpan<char> token, out string value) => KeyEncoder.TryDecodeToken(token, out value);

    /// <summary>The KV key of state <paramref name="stateName"/> of grain <paramref name="grainId"/> under <paramref name="serviceId"/> (what <see cref="NatsGrainStorage.GetStateKey"/> returns).</summary>
    public static string GetStateKey(string serviceId, string stateName, GrainId grainId)
    {
        ArgumentNullException.ThrowIfNull(serviceId);
        return GetStateKeyAfterPrefix(EncodeToken(serviceId) + ".", stateName, grainId);
    }

    /// <summary>
    /// What the keys of state <paramref name="stateName"/> of every grain of <paramref name="grainType"/> start with:
    /// <c>{serviceId}.{stateName}.{grainType}.</c>. Append <see cref="EncodeToken"/> of a grain key for one key, or
    /// <c>*</c> for a watch filter of all of them.
    /// </summary>
    public static string GetGrainTypePrefix(string serviceId, string stateName, GrainType grainType)
    {
        ArgumentNullException.ThrowIfNull(serviceId);
        ArgumentNullException.ThrowIfNull(stateName);
        var builder = new StringBuilder(64);
        KeyEncoder.AppendToken(builder, serviceId);
        builder.Append('.');
        KeyEncoder.AppendToken(builder, stateName);
        builder.Append('.');
        KeyEncoder.AppendToken(builder, grainType.ToString());
        return builder.Append('.').ToString();
    }

    /// <summary>
    /// Splits a state key into its four tokens, decoded. False when <paramref name="kvKey"/> does not have four tokens,
    /// or its service id, state name or grain type do not decode; a hashed grain key decodes to a null
    /// <see cref="NatsGrainStateKey.GrainKey"/>.
    /// </summary>
    public static bool TryParse(string kvKey, out NatsGrainStateKey key)
    {
        ArgumentNullException.ThrowIfNull(kvKey);
        key = default;
        var span = kvKey.AsSpan();
        Span<Range> tokens = stackalloc Range[5];
        if (span.Split(tokens, '.') != 4)
        {
            return false;
        }

        if (!TryDecodeToken(span[tokens[0]], out var serviceId) || !TryDecodeToken(span[tokens[1]], out var stateName)
            || !TryDecodeToken(span[tokens[2]], out var grainType))
        {
            return false;
        }

        var grainKey = TryDecodeToken(span[tokens[3]], out var decoded) ? decoded : null;
        if (grainKey is null && !span[tokens[3]].StartsWith('='))
        {
            return false; // malformed, not hashed
        }

        key = new NatsGrainStateKey(serviceId, stateName, grainType, grainKey);
        return true;
    }

    /// <summary>The key after an already encoded <c>{serviceId}.</c> prefix (the storage keeps its prefix encoded once).</summary>
    internal static string GetStateKeyAfterPrefix(string encodedServicePrefix, string stateName, GrainId grainId)
    {
        ArgumentNullException.ThrowIfNull(stateName);
        var builder = new StringBuilder(encodedServicePrefix, 96);
        KeyEncoder.AppendToken(builder, stateName);
        builder.Append('.');
        KeyEncoder.AppendToken(builder, grainId.Type.ToString());
        builder.Append('.');
        KeyEncoder.AppendToken(builder, grainId.Key.ToString());
        return builder.ToString();
    }
}

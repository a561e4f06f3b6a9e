using System.Globalization;

namespace CacheProvider.Grains.Contracts;

/// <summary>Mirror of <c>Orleans.Runtime.GrainIdKeyExtensions</c>: the string forms of integer, Guid and compound keys.</summary>
public static class GrainIdKeyExtensions
{
    /// <summary>An integer key: uppercase hex without padding (<c>0</c> → <c>"0"</c>).</summary>
    public static IdSpan CreateIntegerKey(long key) => IdSpan.Create(key.ToString("X", CultureInfo.InvariantCulture));

    /// <summary>An integer key with an extension: <c>"{hex}+{extension}"</c>.</summary>
    public static IdSpan CreateIntegerKey(long key, string? keyExtension) =>
        string.IsNullOrEmpty(keyExtension) ? CreateIntegerKey(key) : IdSpan.Create(key.ToString("X", CultureInfo.InvariantCulture) + "+" + keyExtension);

    /// <summary>A Guid key: 32 lowercase hex digits (<c>"N"</c>).</summary>
    public static IdSpan CreateGuidKey(Guid key) => IdSpan.Create(key.ToString("N"));

    /// <summary>A Guid key with an extension: <c>"{guid:N}+{extension}"</c>.</summary>
    public static IdSpan CreateGuidKey(Guid key, string? keyExtension) =>
        string.IsNullOrEmpty(keyExtension) ? CreateGuidKey(key) : IdSpan.Create(key.ToString("N") + "+" + keyExtension);
}

using System.Diagnostics.CodeAnalysis;

namespace CacheProvider.Grains.Contracts;

/// <summary>
/// Mirror of <c>Orleans.Runtime.GrainId</c> (v10): a grain type plus a key, string form <c>"{type}/{key}"</c>,
/// parsed by splitting on the first <c>/</c>, and the uniform hash the reminder service partitions by.
/// </summary>
public readonly struct GrainId : IEquatable<GrainId>, IComparable<GrainId>, ISpanFormattable
{
    /// <summary>Creates an id.</summary>
    public GrainId(GrainType type, IdSpan key)
    {
        Type = type;
        Key = key;
    }

    /// <summary>The grain type.</summary>
    public GrainType Type { get; }

    /// <summary>The key.</summary>
    public IdSpan Key { get; }

    /// <summary>Whether this is the default id.</summary>
    public bool IsDefault => Type.IsDefault && Key.IsDefault;

    /// <summary>Creates an id from a type name and a string key.</summary>
    public static GrainId Create(string type, string key) => new(GrainType.Create(type), IdSpan.Create(key));

    /// <summary>Creates an id from a type and a string key.</summary>
    public static GrainId Create(GrainType type, string key) => new(type, IdSpan.Create(key));

    /// <summary>Creates an id from a type and a key.</summary>
    public static GrainId Create(GrainType type, IdSpan key) => new(type, key);

    /// <summary>Parses <c>"{type}/{key}"</c>: everything after the first <c>/</c> is the key.</summary>
    /// <exception cref="FormatException">No <c>/</c>.</exception>
    public static GrainId Parse(string value) => TryParse(value, out var id) ? id : throw new FormatException($"Unable to parse \"{value}\" as a grain id");

    /// <summary>Parses <c>"{type}/{key}"</c>.</summary>
    public static GrainId Parse(string value, IFormatProvider? provider) => Parse(value);

    /// <summary>Tries to parse <c>"{type}/{key}"</c>.</summary>
    public static bool TryParse([NotNullWhen(true)] string? value, out GrainId result)
    {
        var slash = value is null ? -1 : value.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            result = default;
            return false;
        }

        result = Create(value![..slash], value[(slash + 1)..]);
        return true;
    }

    /// <summary>
    /// <c>unchecked(Type.GetUniformHashCode() * 31 + Key.GetUniformHashCode())</c>, where each part is
    /// <c>ReverseEndianness(XXH32(utf8, seed 0))</c>: identical to Orleans, so keys agree with real silos.
    /// </summary>
    public uint GetUniformHashCode() => unchecked((Type.GetUniformHashCode() * 31) + Key.GetUniformHashCode());

    /// <inheritdoc />
    public bool Equals(GrainId other) => Type.Equals(other.Type) && Key.Equals(other.Key);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GrainId other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Type, Key);

    /// <inheritdoc />
    public int CompareTo(GrainId other)
    {
        var c = Type.CompareTo(other.Type);
        return c != 0 ? c : Key.CompareTo(other.Key);
    }

    /// <summary><c>"{type}/{key}"</c>, both decoded as UTF-8.</summary>
    public override string ToString() => $"{Type}/{Key}";

    /// <inheritdoc />
    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <inheritdoc />
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format, IFormatProvider? provider)
    {
        var text = ToString();
        if (text.Length > destination.Length)
        {
            charsWritten = 0;
            return false;
        }

        text.CopyTo(destination);
        charsWritten = text.Length;
        return true;
    }

    /// <summary>Equality.</summary>
    public static bool operator ==(GrainId left, GrainId right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(GrainId left, GrainId right) => !left.Equals(right);

    /// <summary>Ordering (type, then key).</summary>
    public static bool operator <(GrainId left, GrainId right) => left.CompareTo(right) < 0;

    /// <summary>Ordering (type, then key).</summary>
    public static bool operator <=(GrainId left, GrainId right) => left.CompareTo(right) <= 0;

    /// <summary>Ordering (type, then key).</summary>
    public static bool operator >(GrainId left, GrainId right) => left.CompareTo(right) > 0;

    /// <summary>Ordering (type, then key).</summary>
    public static bool operator >=(GrainId left, GrainId right) => left.CompareTo(right) >= 0;
}

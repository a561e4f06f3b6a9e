using System.Text;
using CacheProvider.Grains.Internal;

namespace CacheProvider.Grains.Contracts;

/// <summary>
/// Mirror of <c>Orleans.Runtime.IdSpan</c>: an immutable UTF-8 byte string with its stable hash computed once.
/// Equality is byte equality.
/// </summary>
public readonly struct IdSpan : IEquatable<IdSpan>, IComparable<IdSpan>
{
    private readonly byte[]? _value;
    private readonly int _hashCode;

    /// <summary>Wraps UTF-8 bytes (not copied: the caller must not change them).</summary>
    public IdSpan(byte[] value)
    {
        ArgumentNullException.ThrowIfNull(value);
        _value = value;
        _hashCode = (int)StableHash.ComputeHash(value);
    }

    /// <summary>Whether this is the default (empty) span.</summary>
    public bool IsDefault => _value is null || _value.Length == 0;

    /// <summary>The UTF-8 bytes.</summary>
    public ReadOnlySpan<byte> AsSpan() => _value;

    /// <summary>Creates a span from a string (UTF-8 encoded).</summary>
    public static IdSpan Create(string id)
    {
        ArgumentNullException.ThrowIfNull(id);
        return new IdSpan(Encoding.UTF8.GetBytes(id));
    }

    /// <summary>The stable (cross-process) hash: <c>(uint)StableHash(bytes)</c>.</summary>
    public uint GetUniformHashCode() => (uint)_hashCode;

    /// <inheritdoc />
    public bool Equals(IdSpan other) => AsSpan().SequenceEqual(other.AsSpan());

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is IdSpan other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _hashCode;

    /// <inheritdoc />
    public int CompareTo(IdSpan other) => AsSpan().SequenceCompareTo(other.AsSpan());

    /// <summary>The bytes decoded as UTF-8.</summary>
    public override string ToString() => _value is null ? string.Empty : Encoding.UTF8.GetString(_value);

    /// <summary>Equality.</summary>
    public static bool operator ==(IdSpan left, IdSpan right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(IdSpan left, IdSpan right) => !left.Equals(right);

    /// <summary>Ordering.</summary>
    public static bool operator <(IdSpan left, IdSpan right) => left.CompareTo(right) < 0;

    /// <summary>Ordering.</summary>
    public static bool operator <=(IdSpan left, IdSpan right) => left.CompareTo(right) <= 0;

    /// <summary>Ordering.</summary>
    public static bool operator >(IdSpan left, IdSpan right) => left.CompareTo(right) > 0;

    /// <summary>Ordering.</summary>
    public static bool operator >=(IdSpan left, IdSpan right) => left.CompareTo(right) >= 0;
}

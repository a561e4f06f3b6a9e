namespace CacheProvider.Grains.Contracts;

/// <summary>Mirror of <c>Orleans.Runtime.GrainType</c>: the type part of a <see cref="GrainId"/>.</summary>
public readonly struct GrainType : IEquatable<GrainType>, IComparable<GrainType>
{
    /// <summary>Wraps a span.</summary>
    public GrainType(IdSpan id) => Value = id;

    /// <summary>The UTF-8 value.</summary>
    public IdSpan Value { get; }

    /// <summary>Whether this is the default type.</summary>
    public bool IsDefault => Value.IsDefault;

    /// <summary>Creates a grain type from its name.</summary>
    public static GrainType Create(string value) => new(IdSpan.Create(value));

    /// <summary>The stable hash of the type name.</summary>
    public uint GetUniformHashCode() => Value.GetUniformHashCode();

    /// <inheritdoc />
    public bool Equals(GrainType other) => Value.Equals(other.Value);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is GrainType other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode();

    /// <inheritdoc />
    public int CompareTo(GrainType other) => Value.CompareTo(other.Value);

    /// <inheritdoc />
    public override string ToString() => Value.ToString();

    /// <summary>Equality.</summary>
    public static bool operator ==(GrainType left, GrainType right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(GrainType left, GrainType right) => !left.Equals(right);

    /// <summary>Ordering.</summary>
    public static bool operator <(GrainType left, GrainType right) => left.CompareTo(right) < 0;

    /// <summary>Ordering.</summary>
    public static bool operator <=(GrainType left, GrainType right) => left.CompareTo(right) <= 0;

    /// <summary>Ordering.</summary>
    public static bool operator >(GrainType left, GrainType right) => left.CompareTo(right) > 0;

    /// <summary>Ordering.</summary>
    public static bool operator >=(GrainType left, GrainType right) => left.CompareTo(right) >= 0;
}

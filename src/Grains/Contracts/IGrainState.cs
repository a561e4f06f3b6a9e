namespace CacheProvider.Grains.Contracts;

/// <summary>Mirror of <c>Orleans.IGrainState&lt;T&gt;</c>: the object a storage provider reads into and mutates in place.</summary>
/// <typeparam name="T">State type.</typeparam>
public interface IGrainState<T>
{
    /// <summary>The state.</summary>
    T State { get; set; }

    /// <summary>Optimistic-concurrency token (opaque string); null when no record exists.</summary>
    string? ETag { get; set; }

    /// <summary>Whether a live record exists.</summary>
    bool RecordExists { get; set; }
}

/// <summary>Mirror of <c>Orleans.GrainState&lt;T&gt;</c>.</summary>
/// <typeparam name="T">State type.</typeparam>
public sealed class GrainState<T> : IGrainState<T>
{
    /// <summary>Creates an empty holder (state default, ETag null).</summary>
    public GrainState()
    {
        State = default!;
    }

    /// <summary>Creates a holder with a state and no ETag.</summary>
    public GrainState(T state) : this(state, null)
    {
    }

    /// <summary>Creates a holder with a state and an ETag.</summary>
    public GrainState(T state, string? eTag)
    {
        State = state;
        ETag = eTag;
    }

    /// <inheritdoc />
    public T State { get; set; }

    /// <inheritdoc />
    public string? ETag { get; set; }

    /// <inheritdoc />
    public bool RecordExists { get; set; }
}

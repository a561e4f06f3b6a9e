namespace CacheProvider.Grains.Contracts;

/// <summary>
/// Mirror of <c>Orleans.Storage.InconsistentStateException</c>: an ETag conflict on write or clear. Providers throw
/// exactly this type (not a subclass); the message carries <c>ServiceId= ProviderName= GrainType= GrainId= ETag=</c>.
/// </summary>
public class InconsistentStateException : OrleansException
{
    /// <summary>Creates the exception.</summary>
    public InconsistentStateException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public InconsistentStateException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InconsistentStateException(string message, Exception? innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InconsistentStateException(string errorMsg, string? storedEtag, string? currentEtag, Exception? storageException)
        : base(errorMsg, storageException)
    {
        StoredEtag = storedEtag;
        CurrentEtag = currentEtag;
    }

    /// <summary>Creates the exception.</summary>
    public InconsistentStateException(string errorMsg, string? storedEtag, string? currentEtag)
        : this(errorMsg, storedEtag, currentEtag, null)
    {
    }

    /// <summary>Creates the exception.</summary>
    public InconsistentStateException(string? storedEtag, string? currentEtag, Exception? storageException)
        : this(storageException?.Message ?? "Inconsistent state", storedEtag, currentEtag, storageException)
    {
    }

    /// <summary>The ETag in storage, when known.</summary>
    public string? StoredEtag { get; private set; }

    /// <summary>The ETag the caller presented.</summary>
    public string? CurrentEtag { get; private set; }

    /// <summary>Whether the exception came from the activation that observes it (the runtime deactivates it).</summary>
    internal bool IsSourceActivation { get; set; } = true;

    /// <inheritdoc />
    public override string ToString() =>
        $"InconsistentStateException: {Message} Expected Etag={StoredEtag} Received Etag={CurrentEtag} {InnerException}";
}

namespace CacheProvider.Caching;

/// <summary>
/// The bucket or server cannot serve a correct cache (history above 1, limit markers off, server too old). The
/// cache never changes an existing bucket silently: this says what is wrong and how to fix it.
/// </summary>
public sealed class NatsCacheConfigurationException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public NatsCacheConfigurationException(string message) : base(message)
    {
    }
}

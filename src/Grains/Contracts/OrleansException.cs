namespace CacheProvider.Grains.Contracts;

/// <summary>Mirror of <c>Orleans.Runtime.OrleansException</c>: the base of exceptions the runtime re-throws unwrapped.</summary>
public class OrleansException : Exception
{
    /// <summary>Creates the exception.</summary>
    public OrleansException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public OrleansException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public OrleansException(string message, Exception? innerException) : base(message, innerException)
    {
    }
}

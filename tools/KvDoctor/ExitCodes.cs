namespace CacheProvider.KvDoctor;

/// <summary>Process exit codes of <c>kv-doctor</c>.</summary>
public static class ExitCodes
{
    /// <summary>Done (no finding at or above <c>--fail-on</c>).</summary>
    public const int Ok = 0;

    /// <summary>Findings at or above the <c>--fail-on</c> severity.</summary>
    public const int Findings = 1;

    /// <summary>Bad flags, values or names.</summary>
    public const int Usage = 2;

    /// <summary>The server could not be reached, refused the credentials, or has no JetStream.</summary>
    public const int Unreachable = 3;
}

namespace CacheProvider.Caching.Internal;

/// <summary>The wall clock in Unix milliseconds, as cheaply as the runtime gives it.</summary>
internal static class CacheTimestamps
{
    private const long UnixEpochMs = 62_135_596_800_000;

    /// <summary>What <c>TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds()</c> returns, without the DateTimeOffset.</summary>
    public static long SystemNowMs() => (DateTime.UtcNow.Ticks / TimeSpan.TicksPerMillisecond) - UnixEpochMs;
}

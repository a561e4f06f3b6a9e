namespace CacheProvider.Internal;

/// <summary>
/// TTL rules shared by leases, presence and tokens. The server keeps whole seconds only (it truncates fractions
/// and rejects anything below 1 s), so TTLs are rounded up here and every local deadline uses the rounded value.
/// </summary>
internal static class PatternTtl
{
    /// <summary>Largest TTL accepted (one day): these patterns are about short-lived state.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromDays(1);

    /// <summary>Validates and rounds <paramref name="ttl"/> up to whole seconds.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Below 1 s or above one day.</exception>
    public static TimeSpan Normalize(TimeSpan ttl, string paramName)
    {
        if (ttl < TimeSpan.FromSeconds(1) || ttl > Max)
        {
            throw new ArgumentOutOfRangeException(paramName, ttl, "A TTL must be between 1 second and 1 day (the server counts whole seconds)");
        }

        var seconds = (ttl.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond;
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>Options check: null when valid.</summary>
    public static string? Check(TimeSpan ttl, string name) =>
        ttl < TimeSpan.FromSeconds(1) || ttl > Max ? $"{name} must be between 1 second and 1 day (was {ttl})" : null;
}

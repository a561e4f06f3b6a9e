namespace CacheProvider.Grains.Caching;

/// <summary>Client-side settings of <see cref="OrleansDistributedCache"/>.</summary>
public sealed class OrleansDistributedCacheOptions
{
    /// <summary>
    /// How long a <see cref="OrleansDistributedCache.GetOrCreateAsync"/> caller waits per round for another caller's
    /// factory before asking again (keep it below Orleans' response timeout, 30 s by default).
    /// </summary>
    public TimeSpan LeaseWait { get; set; } = TimeSpan.FromSeconds(10);
}

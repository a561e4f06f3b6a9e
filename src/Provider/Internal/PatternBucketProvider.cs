using NATS.Client.Core;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Internal;

/// <summary>
/// The bucket of one pattern (leases, presence, tokens, sessions), created or bound on first use through a
/// <see cref="KvBucketHandle"/>. An existing bucket with other settings is used only if it can hold TTL'd keys safely.
/// </summary>
internal sealed class PatternBucketProvider(INatsConnection connection, KvBucketConfig config, TimeProvider timeProvider, ILogger logger)
{
    private readonly KvBucketHandle _handle = new(new KvContext(connection, new KvContextOptions { TimeProvider = timeProvider }), config, (bucket, _) =>
    {
        // Shared with sessions, or created by an operator: history 1 and per-key TTL are what these patterns rely on.
        if (bucket.History != 1 || !bucket.AllowsTtl)
        {
            throw new InvalidOperationException(
                $"Bucket '{config.Bucket}' exists with history {bucket.History} and per-key TTL {(bucket.AllowsTtl ? "on" : "off")}; these patterns need history 1 and per-key TTL");
        }

        if (bucket.Info.Config.SubjectDeleteMarkerTTL <= TimeSpan.Zero)
        {
            logger.LogWarning("Bucket {Bucket} writes no expiry markers: watchers learn of expiries only at the deadline fallback", config.Bucket);
        }
    });

    /// <summary>The bucket, created or bound on the first call.</summary>
    public ValueTask<KvBucket> GetAsync(CancellationToken cancellationToken) => _handle.GetAsync(cancellationToken);
}

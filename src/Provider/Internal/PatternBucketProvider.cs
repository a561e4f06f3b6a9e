using CacheProvider.Nats;
using CacheProvider.Nats.JetStream;
using CacheProvider.Nats.KeyValue;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Internal;

/// <summary>
/// Creates (or binds) the bucket of one pattern on first use. A failure is not cached, so a server that was down
/// at the first call does not poison the instance; concurrent first calls share one attempt.
/// </summary>
internal sealed class PatternBucketProvider(NatsConnection connection, KvBucketConfig config, TimeProvider timeProvider, ILogger logger)
{
    private readonly object _lock = new();
    private Task<KvBucket>? _bucket;

    /// <summary>The bucket, created or bound on the first call.</summary>
    public ValueTask<KvBucket> GetAsync(CancellationToken cancellationToken)
    {
        var current = _bucket;
        return current is { IsCompletedSuccessfully: true } ? new ValueTask<KvBucket>(current.Result) : new ValueTask<KvBucket>(GetSlowAsync(cancellationToken));
    }

    private async Task<KvBucket> GetSlowAsync(CancellationToken cancellationToken)
    {
        Task<KvBucket> task;
        lock (_lock)
        {
            if (_bucket is null || _bucket.IsFaulted || _bucket.IsCanceled)
            {
                // Not tied to the first caller's token: other callers may be waiting for the same attempt.
                _bucket = CreateOrBindAsync();
            }

            task = _bucket;
        }

        return await task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<KvBucket> CreateOrBindAsync()
    {
        var kv = new KvContext(connection) { TimeProvider = timeProvider };
        try
        {
            return await kv.CreateBucketAsync(config, CancellationToken.None).ConfigureAwait(false);
        }
        catch (JetStreamApiException ex) when (ex.ErrorCode == JetStreamErrorCode.StreamNameInUse)
        {
            // The bucket exists with other settings (shared with sessions, or created by an operator): use it if it can
            // hold TTL'd keys safely.
            var bucket = await kv.GetBucketAsync(config.Bucket, CancellationToken.None).ConfigureAwait(false);
            if (bucket.History != 1 || !bucket.AllowsTtl)
            {
                throw new InvalidOperationException(
                    $"Bucket '{config.Bucket}' exists with history {bucket.History} and per-key TTL {(bucket.AllowsTtl ? "on" : "off")}; these patterns need history 1 and per-key TTL");
            }

            if (bucket.Info.Config.SubjectDeleteMarkerTtl <= TimeSpan.Zero)
            {
                logger.LogWarning("Bucket {Bucket} writes no expiry markers: watchers learn of expiries only at the deadline fallback", config.Bucket);
            }

            return bucket;
        }
    }
}

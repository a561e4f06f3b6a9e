using CacheProvider.KeyValue;
using NATS.Client.JetStream;
using Orleans.Runtime;

namespace CacheProvider.Grains.Clustering.Internal;

/// <summary>
/// The bucket of the membership table and grain directory, created on first use with what they need (history 1,
/// per-key TTL for self-removing tombstones, direct gets, atomic batches on servers that have them, no max age) and
/// checked when it already exists. A failed attempt is not remembered, so the next call tries again.
/// </summary>
internal sealed class ClusterBucket(KvContext context, string bucket, int replicas, KvStorage storage, bool needsAtomic, string component)
{
    /// <summary>Oldest server with atomic batch publish (ADR-50).</summary>
    public static readonly Version AtomicBatchServerVersion = new(2, 12, 0);

    private static readonly TimeSpan MarkerTtl = TimeSpan.FromMinutes(1);
    private readonly Lock _lock = new();
    private Task<KvBucket>? _bucket;

    public KvContext Context => context;

    public string Name => bucket;

    public ValueTask<KvBucket> GetAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _bucket);
        if (current is { IsCompletedSuccessfully: true })
        {
            return new ValueTask<KvBucket>(current.Result);
        }

        lock (_lock)
        {
            if (_bucket is null || _bucket.IsFaulted || _bucket.IsCanceled)
            {
                _bucket = CreateOrBindAsync();
            }

            return new ValueTask<KvBucket>(_bucket.WaitAsync(cancellationToken));
        }
    }

    private async Task<KvBucket> CreateOrBindAsync()
    {
        var version = await context.ConnectAsync(CancellationToken.None).ConfigureAwait(false);
        var atomic = version >= AtomicBatchServerVersion;
        if (needsAtomic && !atomic)
        {
            throw new OrleansConfigurationException(
                $"{component} needs nats-server {AtomicBatchServerVersion.ToString(2)} or later (atomic batch publish, which writes the membership version and a silo row together); " +
                $"the server at {context.Connection.ServerInfo?.Host}:{context.Connection.ServerInfo?.Port} runs {context.Connection.ServerInfo?.Version}. Upgrade the NATS servers.");
        }

        try
        {
            return await context.CreateBucketAsync(
                new KvBucketConfig
                {
                    Bucket = bucket,
                    Description = "Orleans cluster membership and grain directory (CacheProvider.Grains)",
                    History = 1,
                    LimitMarkerTtl = MarkerTtl,
                    AllowAtomicPublish = atomic,
                    Replicas = replicas,
                    Storage = storage,
                },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == JetStreamErrorCodes.StreamNameInUse)
        {
            // Created elsewhere (another silo's options, or by hand): use it if it is safe, switch on what is missing.
            return await BindExistingAsync(atomic).ConfigureAwait(false);
        }
    }

    private async Task<KvBucket> BindExistingAsync(bool atomic)
    {
        var existing = await context.GetBucketAsync(bucket, CancellationToken.None).ConfigureAwait(false);
        var config = existing.Info.Config;
        if (config.MaxAge > TimeSpan.Zero)
        {
            throw new OrleansConfigurationException(
                $"{component}: bucket '{bucket}' has a max age of {config.MaxAge}. It would expire membership rows and directory entries, and silos whose rows " +
                $"vanish declare themselves dead. Remove the max age (e.g. `nats kv edit {bucket} --ttl 0`, or `nats stream edit KV_{bucket} --max-age 0`), " +
                "or choose another bucket.");
        }

        if (!config.AllowDirect)
        {
            throw new OrleansConfigurationException(
                $"{component}: bucket '{bucket}' does not allow direct gets, which consistent membership reads need. Enable them (`nats stream edit KV_{bucket} --allow-direct`), or choose another bucket.");
        }

        if (config.Mirror is not null)
        {
            throw new OrleansConfigurationException($"{component}: bucket '{bucket}' is a mirror (read-only). Choose the origin bucket.");
        }

        var wanted = config with
        {
            AllowAtomicPublish = config.AllowAtomicPublish || atomic,
            AllowMsgTTL = true,
            AllowRollupHdrs = true,
        };
        if (wanted.AllowAtomicPublish != config.AllowAtomicPublish || !config.AllowMsgTTL || !config.AllowRollupHdrs)
        {
            await context.JetStream.UpdateStreamAsync(wanted, CancellationToken.None).ConfigureAwait(false);
            existing = await context.GetBucketAsync(bucket, CancellationToken.None).ConfigureAwait(false);
        }

        return existing;
    }
}

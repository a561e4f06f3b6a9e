using System.Text;
using CacheProvider.Caching;
using CacheProvider.KeyValue;
using NATS.Client.Core;
using NATS.Client.JetStream;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Caching.Internal;

/// <summary>
/// The front end's view of the cache grains' bucket: the KV key of a cache key (the grain storage's scheme,
/// <see cref="NatsGrainStateKeys"/>), the cache key of a KV key, and the bucket (bound, never created: the silos'
/// storage creates it).
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "Lives as long as its cache; the bind gate holds no unmanaged resource.")]
internal sealed class CacheBucketClient
{
    private readonly KvContext _context;
    private readonly IGrainFactory _grains;
    private readonly OrleansDistributedCacheOptions _options;
    private readonly SemaphoreSlim _bind = new(1, 1);
    private KvBucket? _bucket;
    private string? _prefix;

    public CacheBucketClient(INatsConnection connection, OrleansDistributedCacheOptions options, IGrainFactory grains, TimeProvider time)
    {
        _context = new KvContext(connection, new KvContextOptions { TimeProvider = time });
        _options = options;
        _grains = grains;
        Connection = connection;
    }

    public INatsConnection Connection { get; }

    /// <summary>
    /// <c>{serviceId}.cache.{grainType}.</c>: what every entry's KV key starts with. The grain type is asked from Orleans
    /// (the type the cache grain is registered under), so it always matches the silos.
    /// </summary>
    public string Prefix => Volatile.Read(ref _prefix) ?? (_prefix = MakePrefix());

    /// <summary>The watch filter of every entry.</summary>
    public string Filter => Prefix + "*";

    /// <summary>The KV key of <paramref name="cacheKey"/>'s entry, as the silo's storage computes it (from the grain id).</summary>
    public string KvKeyOf(string cacheKey)
    {
        // Orleans keeps a string grain key as UTF-8 and the storage encodes its decoding, so an unpaired surrogate
        // becomes U+FFFD there: do the same round trip for keys that have any.
        var key = cacheKey.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') ? Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(cacheKey)) : cacheKey;
        return string.Concat(Prefix, NatsGrainStateKeys.EncodeToken(key));
    }

    /// <summary>The cache key of a KV key of this cache; null for other keys and for hashed (overlong) ones.</summary>
    public string? CacheKeyOf(string kvKey)
    {
        var prefix = Prefix;
        return kvKey.StartsWith(prefix, StringComparison.Ordinal) && NatsGrainStateKeys.TryDecodeToken(kvKey.AsSpan(prefix.Length), out var key) ? key : null;
    }

    /// <summary>The bucket.</summary>
    /// <exception cref="NatsCacheConfigurationException">The bucket does not exist.</exception>
    public async ValueTask<KvBucket> GetBucketAsync(CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _bucket) is { } bucket)
        {
            return bucket;
        }

        await _bind.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_bucket is null)
            {
                try
                {
                    _bucket = await _context.GetBucketAsync(_options.Bucket, cancellationToken).ConfigureAwait(false);
                }
                catch (NatsJSApiException ex) when (ex.Error.ErrCode == JetStreamErrorCodes.StreamNotFound)
                {
                    throw new NatsCacheConfigurationException(
                        $"Bucket '{_options.Bucket}' does not exist. The silos create it when their cache grain storage starts (AddNatsCacheGrains); OrleansDistributedCacheOptions.Bucket must name that storage's bucket.");
                }
            }

            return _bucket;
        }
        finally
        {
            _bind.Release();
        }
    }

    private string MakePrefix()
    {
        var serviceId = _options.ServiceId;
        if (string.IsNullOrEmpty(serviceId))
        {
            throw new InvalidOperationException(
                "OrleansDistributedCacheOptions.ServiceId is not set: set it to the cache grain storage's service id (AddOrleansNatsDistributedCache fills it from ClusterOptions.ServiceId).");
        }

        // Any key gives the grain type; "_" because Orleans refuses empty keys.
        var type = _grains.GetGrain<ICacheGrain>("_").GetGrainId().Type;
        return NatsGrainStateKeys.GetGrainTypePrefix(serviceId, CacheGrainStore.StateName, type);
    }
}

using CacheProvider.KeyValue.Internal;
using NATS.Client.JetStream;

namespace CacheProvider.KeyValue;

/// <summary>
/// A bucket created (or, when it already exists with other settings, bound) on first use and then reused. A failed
/// attempt is not remembered, so the next call tries again; the shared attempt is not tied to any one caller's
/// cancellation token, so a caller that gives up does not fail the others waiting for it.
/// </summary>
public sealed class KvBucketHandle
{
    private readonly object _lock = new();
    private readonly KvContext _context;
    private readonly KvBucketConfig _config;
    private readonly Action<KvBucket, NatsJSApiException>? _checkExisting;
    private Task<KvBucket>? _bucket;

    /// <summary>Creates the handle; nothing is sent until <see cref="GetAsync"/>.</summary>
    /// <param name="context">The KV context.</param>
    /// <param name="config">How to create the bucket.</param>
    /// <param name="checkExisting">
    /// Called when the bucket already exists with other settings, with the bound bucket and the server's refusal;
    /// throw to refuse a bucket the caller cannot use safely.
    /// </param>
    public KvBucketHandle(KvContext context, KvBucketConfig config, Action<KvBucket, NatsJSApiException>? checkExisting = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(config);
        _context = context;
        _config = config;
        _checkExisting = checkExisting;
    }

    /// <summary>The bucket name.</summary>
    public string Bucket => _config.Bucket;

    /// <summary>The bucket, created or bound on the first call.</summary>
    public ValueTask<KvBucket> GetAsync(CancellationToken cancellationToken = default)
    {
        var current = Volatile.Read(ref _bucket);
        return current is { IsCompletedSuccessfully: true } ? new ValueTask<KvBucket>(current.Result) : new ValueTask<KvBucket>(GetSlowAsync(cancellationToken));
    }

    private Task<KvBucket> GetSlowAsync(CancellationToken cancellationToken)
    {
        Task<KvBucket> task;
        lock (_lock)
        {
            if (_bucket is null || _bucket.IsFaulted || _bucket.IsCanceled)
            {
                _bucket = CreateOrBindAsync();
            }

            task = _bucket;
        }

        return task.WaitAsync(cancellationToken);
    }

    private async Task<KvBucket> CreateOrBindAsync()
    {
        try
        {
            return await _context.CreateBucketAsync(_config, CancellationToken.None).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == JetStreamErrorCodes.StreamNameInUse)
        {
            var bucket = await _context.GetBucketAsync(_config.Bucket, CancellationToken.None).ConfigureAwait(false);
            _checkExisting?.Invoke(bucket, ex);
            return bucket;
        }
    }
}

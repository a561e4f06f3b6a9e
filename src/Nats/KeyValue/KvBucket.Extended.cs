using System.Buffers;
using CacheProvider.Nats.JetStream;
using CacheProvider.Nats.JetStream.Internal;
using CacheProvider.Nats.KeyValue.Internal;

namespace CacheProvider.Nats.KeyValue;

/// <summary>Writes with caller headers and segmented payloads, and watches that are live when they return.</summary>
public sealed partial class KvBucket
{
    /// <summary>
    /// Starts a watch and returns once its server consumer exists, so no change made afterwards is missed.
    /// Resync notifications (<see cref="KvWatchOptions.OnResync"/>) are delivered as with <see cref="WatchAsync(IReadOnlyList{string}, KvWatchOptions?, CancellationToken)"/>.
    /// </summary>
    public async Task<KvWatcher> StartWatchAsync(IReadOnlyList<string> keyFilters, KvWatchOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keyFilters);
        options ??= new KvWatchOptions();
        var policy = options.ResumeAfterRevision > 0 ? DeliverPolicy.ByStartSequence
            : options.UpdatesOnly ? DeliverPolicy.New
            : options.IncludeHistory ? DeliverPolicy.All
            : DeliverPolicy.LastPerSubject;
        var consumer = await OpenConsumerAsync(keyFilters, policy, options.ResumeAfterRevision + 1, options.HeadersOnly, options.IdleHeartbeat, cancellationToken).ConfigureAwait(false);
        return new KvWatcher(this, consumer, options);
    }

    /// <summary>
    /// Writes a value whose payload may be a sequence of segments (not flattened), with caller headers, an optional
    /// per-key TTL and an optional expected revision.
    /// </summary>
    /// <returns>The new revision.</returns>
    /// <exception cref="KvWrongRevisionException">The key is not at <see cref="KvPutOptions.ExpectedRevision"/>.</exception>
    /// <exception cref="KvValueTooLargeException">Headers and value exceed the bucket's max value size.</exception>
    public async ValueTask<ulong> PutAsync(string key, ReadOnlySequence<byte> value, KvPutOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        KvNames.ValidateKey(key);
        var headers = BuildHeaders(options.Ttl, options.ExpectedRevision);
        if (options.Headers is { } extra)
        {
            foreach (var (name, v) in extra)
            {
                if (name.StartsWith("Nats-", StringComparison.Ordinal) || name.StartsWith("KV-", StringComparison.Ordinal))
                {
                    throw new ArgumentException($"Header '{name}' is reserved for the server and KV", nameof(options));
                }

                headers.Add(name, v);
            }
        }

        var limit = Info.Config.MaxMsgSize;
        if (limit > 0)
        {
            var size = Nats.Internal.HeaderCodec.GetLength(headers) + value.Length;
            if (size > limit)
            {
                throw new KvValueTooLargeException(Bucket, size, limit, "the bucket's max value size (headers included)");
            }
        }

        if (options.MsgId is { } msgId)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(msgId, nameof(options));
            headers.Add("Nats-Msg-Id", msgId);
        }

        return await PublishWithRetryAsync(key, value, headers, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Publishes with the write retry rules of <see cref="JetStreamContext"/>: not-delivered failures are always
    /// retried, unknown outcomes only when a repeat cannot apply twice (message id or expected revision), and an
    /// unacknowledged write ends in <see cref="JetStreamWriteOutcomeUnknownException"/>; a wrong revision is
    /// <see cref="KvWrongRevisionException"/>.
    /// </summary>
    private async ValueTask<ulong> PublishWithRetryAsync(string key, ReadOnlySequence<byte> value, NatsHeaders headers, KvPutOptions options, CancellationToken cancellationToken)
    {
        var retry = new WriteRetry(
            options.RetryBudget,
            Repeatable: options.MsgId is not null || options.ExpectedRevision is not null,
            Idempotent: options.MsgId is not null,
            ReportUnknown: true);
        try
        {
            var ack = await _context.JetStream.PublishWithRetryAsync(
                _writePrefix + key, value, headers.Count == 0 ? null : headers, retry, TimeProvider, cancellationToken).ConfigureAwait(false);
            return ack.Seq;
        }
        catch (JetStreamApiException ex) when (ex.IsWrongLastSequence && options.ExpectedRevision is { } rev)
        {
            throw new KvWrongRevisionException(Bucket, key, rev, ex);
        }
    }
}

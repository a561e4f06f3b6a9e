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
    /// Publishes and classifies the result: an acknowledgement is committed; a JetStream error is rejected (wrong
    /// revision as <see cref="KvWrongRevisionException"/>); no acknowledgement is unknown
    /// (<see cref="JetStreamWriteOutcomeUnknownException"/>). Not-delivered failures are always retried; unknown ones
    /// only when a repeat cannot apply twice (message id or expected revision).
    /// </summary>
    private async ValueTask<ulong> PublishWithRetryAsync(string key, ReadOnlySequence<byte> value, NatsHeaders headers, KvPutOptions options, CancellationToken cancellationToken)
    {
        var subject = _writePrefix + key;
        var repeatable = options.MsgId is not null || options.ExpectedRevision is not null;
        var start = TimeProvider.GetTimestamp();
        var backoff = TimeSpan.FromMilliseconds(50);
        var attempts = 0;
        var outcomeUnknown = false;
        while (true)
        {
            attempts++;
            Exception failure;
            try
            {
                var ack = await Connection.RequestAsync<PubAckResponse, JsonReplyParser<PubAckResponse>>(
                    subject, headers.Count == 0 ? null : headers, value, new(JetStreamJson.Default.PubAckResponse), null, cancellationToken).ConfigureAwait(false);
                return ack.Seq;
            }
            catch (JetStreamApiException ex) when (ex.IsWrongLastSequence && options.ExpectedRevision is { } rev)
            {
                if (outcomeUnknown && options.MsgId is null)
                {
                    // An earlier unacknowledged attempt may be the write that moved the key on.
                    throw new JetStreamWriteOutcomeUnknownException(subject, attempts, ex);
                }

                throw new KvWrongRevisionException(Bucket, key, rev, ex);
            }
            catch (Exception ex) when (JetStreamRetry.IsNotDelivered(ex) || JetStreamRetry.IsNoReply(ex))
            {
                failure = ex;
                outcomeUnknown |= JetStreamRetry.IsNoReply(ex);
            }

            var mayRepeat = !outcomeUnknown || repeatable;
            if (!mayRepeat || TimeProvider.GetElapsedTime(start) + backoff >= options.RetryBudget)
            {
                if (outcomeUnknown)
                {
                    throw new JetStreamWriteOutcomeUnknownException(subject, attempts, failure);
                }

                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }

            await Task.Delay(backoff, TimeProvider, cancellationToken).ConfigureAwait(false);
            backoff = JetStreamRetry.Next(backoff);
        }
    }
}

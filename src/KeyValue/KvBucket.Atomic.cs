using System.Buffers;
using System.Globalization;
using CacheProvider.KeyValue.Internal;
using NATS.Client.Core;
using NATS.Client.JetStream;

namespace CacheProvider.KeyValue;

/// <summary>Atomic multi-key writes (ADR-50 atomic batch publish).</summary>
public sealed partial class KvBucket
{
    /// <summary>
    /// Commits <paramref name="batch"/>: the server stores every message or none. Message 1 is staged with a request
    /// (so a refusal such as "atomic publish disabled" surfaces at once), the middle ones are published, and the last
    /// carries <c>Nats-Batch-Commit</c>; every compare-and-set is checked at commit.
    /// </summary>
    /// <returns>
    /// Committed, with the last message's revision; or not committed (a compare-and-set failed, or the server dropped
    /// the batch as incomplete, e.g. after a leader change): nothing is stored.
    /// </returns>
    /// <exception cref="KvWriteOutcomeUnknownException">The commit got no reply: the batch may or may not be stored.</exception>
    /// <exception cref="KvAtomicBatchUnavailableException">The server kept asking to retry for the whole write retry budget; nothing is stored.</exception>
    /// <exception cref="NatsJSApiException">Any other refusal, e.g. <see cref="JetStreamErrorCodes.AtomicPublishDisabled"/>; nothing is stored.</exception>
    public async ValueTask<KvAtomicResult> CommitAsync(KvAtomicBatch batch, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            throw new ArgumentException("An atomic batch needs at least one message", nameof(batch));
        }

        var mux = await RequestMux.GetAsync(_js.Connection, cancellationToken).ConfigureAwait(false);
        var budget = _js.Options.WriteRetryBudget;
        var start = TimeProvider.System.GetTimestamp();
        var backoff = JetStreamRetry.FirstBackoff;
        var attempts = 0;
        while (true)
        {
            attempts++;
            Exception retryable;
            try
            {
                return await CommitOnceAsync(mux, batch, cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException ex) when (ex.Error.ErrCode is JetStreamErrorCodes.WrongLastSequenceUnavailable or JetStreamErrorCodes.TooManyInflightBatches ||
                                                JetStreamRetry.IsNotDelivered(ex))
            {
                retryable = ex;
            }
            catch (NatsNoRespondersException ex)
            {
                retryable = ex;
            }
            catch (StagingTimeoutException ex)
            {
                // Message 1 got no reply, so no commit was sent: the staged part (if any) is abandoned by the server.
                retryable = ex.InnerException!;
            }

            var remaining = budget - TimeProvider.System.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                throw new KvAtomicBatchUnavailableException(Bucket, attempts, retryable);
            }

            await Task.Delay(backoff < remaining ? backoff : remaining, cancellationToken).ConfigureAwait(false);
            backoff = JetStreamRetry.Next(backoff);
        }
    }

    private async ValueTask<KvAtomicResult> CommitOnceAsync(RequestMux mux, KvAtomicBatch batch, CancellationToken cancellationToken)
    {
        var id = RequestMux.NewToken();
        var operations = batch.Operations;
        var last = operations.Count - 1;
        for (var i = 0; i < last; i++)
        {
            var op = operations[i];
            var headers = BatchHeaders(op, id, i + 1, commit: false);
            var subject = _writePrefix + op.Key;
            if (i == 0)
            {
                try
                {
                    await mux.RequestAsync<bool, StagedParser>(subject, new ReadOnlySequence<byte>(op.Value), headers, default, _js.RequestTimeout, cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (JetStreamRetry.IsNoReply(ex))
                {
                    throw new StagingTimeoutException(ex);
                }
            }
            else
            {
                await _js.Connection.PublishAsync(subject, new ReadOnlySequence<byte>(op.Value), headers, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
        }

        var final = operations[last];
        var commitSubject = _writePrefix + final.Key;
        try
        {
            var ack = await mux.RequestAsync<PubAck, PubAckParser>(commitSubject, new ReadOnlySequence<byte>(final.Value), BatchHeaders(final, id, last + 1, commit: true), default, _js.RequestTimeout, cancellationToken).ConfigureAwait(false);
            return new KvAtomicResult(true, ack.Seq, operations.Count, 0);
        }
        catch (NatsJSApiException ex) when (ex.IsWrongLastSequence() || ex.Error.ErrCode == JetStreamErrorCodes.BatchIncomplete)
        {
            return new KvAtomicResult(false, 0, operations.Count, ex.Error.ErrCode);
        }
        catch (Exception ex) when (JetStreamRetry.IsNoReply(ex))
        {
            throw new KvWriteOutcomeUnknownException(commitSubject, 1, ex);
        }
    }

    private static NatsHeaders BatchHeaders(in KvAtomicOperation op, string id, int sequence, bool commit)
    {
        var headers = new NatsHeaders
        {
            ["Nats-Batch-Id"] = id,
            ["Nats-Batch-Sequence"] = sequence.ToString(CultureInfo.InvariantCulture),
        };
        if (commit)
        {
            headers["Nats-Batch-Commit"] = "1";
        }

        if (op.ExpectedRevision is { } expected)
        {
            headers["Nats-Expected-Last-Subject-Sequence"] = expected.ToString(CultureInfo.InvariantCulture);
        }

        if (op.Ttl is { } ttl)
        {
            headers[TtlFormat.HeaderName] = TtlFormat.Format(ttl);
        }

        switch (op.Kind)
        {
            case KvAtomicOperationKind.Delete:
                headers["KV-Operation"] = "DEL";
                break;
            case KvAtomicOperationKind.Purge:
                headers["KV-Operation"] = "PURGE";
                headers["Nats-Rollup"] = "sub";
                break;
        }

        return headers;
    }

    /// <summary>Message 1 of a batch got no reply: nothing was committed.</summary>
    private sealed class StagingTimeoutException(Exception inner) : Exception("staging timed out", inner);

    /// <summary>The reply to a staged (non-commit) batch message: empty when staged, a JSON error otherwise.</summary>
    private readonly struct StagedParser : IReplyParser<bool>
    {
        public bool Parse(int status, ReadOnlySpan<byte> headers, in ReadOnlySequence<byte> payload) =>
            payload.IsEmpty && status is 0 or 200 ? true : default(PubAckParser).Parse(status, headers, payload).Seq >= 0;
    }
}

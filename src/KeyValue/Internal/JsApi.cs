using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace CacheProvider.KeyValue.Internal;

/// <summary>A stored message read from the stream leader or a batch: header block as bytes.</summary>
internal sealed record StoredEntry(string Subject, string Stream, ulong Sequence, long CreatedTicks, byte[]? Headers, ReadOnlyMemory<byte> Data);

/// <summary>What the end of a batch get reported: the stream sequence the answering replica had applied (0 when not said).</summary>
internal sealed class BatchEnd
{
    public ulong UpToSequence { get; set; }

    /// <summary>Nothing matched (404): the server then does not say how far it had applied.</summary>
    public bool NotFound { get; set; }
}

/// <summary>
/// The JetStream calls the KV layer makes. Stream and consumer management go through NATS.Net's
/// <see cref="INatsJSContext"/>; publishes and direct gets go through our <see cref="RequestMux"/>, which tells
/// "certainly not stored" (no responders) from "unknown" (no reply) and reads replies without materialising them.
/// </summary>
internal sealed class JsApi
{
    public JsApi(INatsConnection connection, KvContextOptions options)
    {
        Connection = connection;
        Options = options;
        RequestTimeout = options.RequestTimeout ?? connection.Opts.RequestTimeout;
        Js = new NatsJSContext(connection, new NatsJSOpts(connection.Opts, domain: options.Domain, requestTimeout: RequestTimeout));
        Prefix = Js.Opts.Prefix;
    }

    public INatsConnection Connection { get; }

    public NatsJSContext Js { get; }

    public KvContextOptions Options { get; }

    public string Prefix { get; }

    public TimeSpan RequestTimeout { get; }

    public ValueTask<T> RetryReadAsync<T>(Func<CancellationToken, ValueTask<T>> read, CancellationToken cancellationToken) =>
        JetStreamRetry.ReadAsync(read, Options.ReadRetryBudget, TimeProvider.System, cancellationToken);

    public ValueTask<StreamInfo> GetStreamInfoAsync(string stream, CancellationToken cancellationToken) =>
        RetryReadAsync(async ct => (await Js.GetStreamAsync(stream, cancellationToken: ct).ConfigureAwait(false)).Info, cancellationToken);

    // Create and update set a desired state: sending the same config again after a lost reply is harmless (the server
    // answers success when the stream already has it), so both retry like reads.
    public ValueTask<StreamInfo> CreateStreamAsync(StreamConfig config, CancellationToken cancellationToken) =>
        RetryReadAsync(async ct => (await Js.CreateStreamAsync(config, ct).ConfigureAwait(false)).Info, cancellationToken);

    public ValueTask<StreamInfo> UpdateStreamAsync(StreamConfig config, CancellationToken cancellationToken) =>
        RetryReadAsync(async ct => (await Js.UpdateStreamAsync(config, ct).ConfigureAwait(false)).Info, cancellationToken);

    public async ValueTask<ulong> PurgeAsync(string stream, string? filter, ulong belowSequence, ulong keep, CancellationToken cancellationToken)
    {
        var r = await Js.PurgeStreamAsync(stream, new StreamPurgeRequest { Filter = filter, Seq = belowSequence, Keep = keep }, cancellationToken).ConfigureAwait(false);
        return (ulong)Math.Max(0, r.Purged);
    }

    /// <summary>
    /// The one write loop: publishes and repeats what <paramref name="retry"/> allows while its budget lasts. A write that
    /// certainly reached no stream (no responders, 503) is always safe to repeat — right after an election the new
    /// leader's interest in the subjects may not have reached this server yet. One that got no reply may have been
    /// stored, so it is repeated only when that cannot store it twice.
    /// </summary>
    public async ValueTask<PubAck> PublishAsync(string subject, ReadOnlySequence<byte> payload, NatsHeaders? headers, WriteRetry retry, TimeProvider time, CancellationToken cancellationToken)
    {
        var mux = await RequestMux.GetAsync(Connection, cancellationToken).ConfigureAwait(false);
        var start = time.GetTimestamp();
        var backoff = JetStreamRetry.FirstBackoff;
        var attempts = 0;
        var outcomeUnknown = false;
        while (true)
        {
            attempts++;
            Exception failure;
            try
            {
                return await mux.RequestAsync<PubAck, PubAckParser>(subject, payload, headers, default, RequestTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (NatsJSApiException ex) when (ex.IsWrongLastSequence() && outcomeUnknown && !retry.Idempotent)
            {
                // An earlier unacknowledged attempt may be the write that moved the subject on.
                throw new KvWriteOutcomeUnknownException(subject, attempts, ex);
            }
            catch (Exception ex) when (JetStreamRetry.IsNotDelivered(ex) || JetStreamRetry.IsNoReply(ex))
            {
                failure = ex;
                outcomeUnknown |= JetStreamRetry.IsNoReply(ex);
            }

            // The whole budget is used: the last wait is cut to what is left of it.
            var remaining = retry.Budget - time.GetElapsedTime(start);
            if ((outcomeUnknown && !retry.Repeatable) || remaining <= TimeSpan.Zero)
            {
                if (outcomeUnknown && retry.ReportUnknown)
                {
                    throw new KvWriteOutcomeUnknownException(subject, attempts, failure);
                }

                ExceptionDispatchInfo.Throw(failure);
            }

            await Task.Delay(backoff < remaining ? backoff : remaining, time, cancellationToken).ConfigureAwait(false);
            backoff = JetStreamRetry.Next(backoff);
        }
    }

    /// <summary>The last message on <paramref name="subject"/> from the stream leader (read-your-writes); null when none.</summary>
    public async ValueTask<StoredEntry?> GetLastFromLeaderOnceAsync(string stream, string subject, CancellationToken cancellationToken)
    {
        StreamMsgGetResponse r;
        var api = $"{Prefix}.STREAM.MSG.GET.{stream}";

        // NATS.Net's request waits for a reconnect before its own timeout starts: bound it by ours.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RequestTimeout);
        try
        {
            r = await Js.JSRequestResponseAsync<StreamMsgGetRequest, StreamMsgGetResponse>(
                api, new StreamMsgGetRequest { LastBySubj = subject }, timeout.Token).ConfigureAwait(false);
        }
        catch (NatsJSApiException ex) when (ex.Error.ErrCode == JetStreamErrorCodes.NoMessageFound)
        {
            return null;
        }
        catch (Exception ex) when ((ex is NatsJSApiNoResponseException or OperationCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            // The same typed timeout as a direct read: callers must not need to know which path NATS.Net took.
            throw new KvTimeoutException(api, RequestTimeout);
        }

        var m = r.Message;
        var headers = string.IsNullOrEmpty(m.Hdrs) ? null : Convert.FromBase64String(m.Hdrs);
        return new StoredEntry(m.Subject, stream, m.Seq, m.Time.UtcTicks, headers, m.Data);
    }

    /// <summary>
    /// Direct batch get: the last message of every subject matching <paramref name="subjects"/> (<c>multi_last</c>),
    /// streamed until the server's end-of-batch.
    /// </summary>
    public async IAsyncEnumerable<StoredEntry> DirectGetLastBatchAsync(string stream, IReadOnlyList<string> subjects, [EnumeratorCancellation] CancellationToken cancellationToken, BatchEnd? end = null)
    {
        var body = new StringBuilder("{\"multi_last\":[");
        for (var i = 0; i < subjects.Count; i++)
        {
            body.Append(i == 0 ? "\"" : ",\"").Append(subjects[i]).Append('"');
        }

        var payload = Encoding.UTF8.GetBytes(body.Append("]}").ToString());
        var inbox = await RawInbox.SubscribeAsync(Connection, cancellationToken).ConfigureAwait(false);
        await using var _ = ((IAsyncDisposable)inbox).ConfigureAwait(false);
        var subject = $"{Prefix}.DIRECT.GET.{stream}";
        await Connection.PublishAsync(subject, payload, replyTo: inbox.Subject, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            timeout.CancelAfter(RequestTimeout);
            RawMsg msg;
            try
            {
                msg = await inbox.Messages.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new KvTimeoutException(subject, RequestTimeout);
            }

            if (msg.Status is 204 or 404)
            {
                if (end is not null)
                {
                    end.NotFound = msg.Status == 404;
                }

                if (end is not null && ulong.TryParse(msg.Header("Nats-UpTo-Sequence"u8), NumberStyles.None, CultureInfo.InvariantCulture, out var upTo))
                {
                    end.UpToSequence = upTo;
                }

                yield break; // 204 EOB ends the batch; 404: nothing matched.
            }

            if (msg.Status == 503 && msg.Payload.Length == 0 && msg.Description is null)
            {
                throw new NatsNoRespondersException(); // no stream answers (missing, or without allow_direct)
            }

            if (msg.Status >= 400)
            {
                throw DirectGetError(msg.Status, msg.Description);
            }

            var p = EntryParser.Scan(msg.HeaderSpan);
            yield return new StoredEntry(msg.Header("Nats-Subject"u8) ?? string.Empty, Encoding.UTF8.GetString(p.Stream), p.Sequence, p.CreatedTicks, msg.Headers, msg.Payload);
        }
    }

    /// <summary>
    /// The error of a direct get, which the server reports as a status line (<c>408 Malformed Request</c>, <c>413 Too
    /// Many Subjects</c>…) without the err_code of the JSON API: the code is the one <c>STREAM.MSG.GET</c> gives for the
    /// same mistake, so callers match both reads alike.
    /// </summary>
    public static NatsJSApiException DirectGetError(int status, string? description)
    {
        var errCode = status switch
        {
            404 => JetStreamErrorCodes.NoMessageFound,
            408 when string.Equals(description, "Malformed Request", StringComparison.OrdinalIgnoreCase) => JetStreamErrorCodes.InvalidJson,
            >= 400 and < 500 => JetStreamErrorCodes.BadRequest,
            503 => JetStreamErrorCodes.ClusterNotAvailable,
            _ => 0,
        };
        var text = string.IsNullOrWhiteSpace(description) ? $"direct get failed with status {status}" : "direct get: " + description;
        return new NatsJSApiException(new ApiError { Code = status, ErrCode = errCode, Description = text });
    }
}

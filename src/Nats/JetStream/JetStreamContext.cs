using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using CacheProvider.Nats.Internal;
using CacheProvider.Nats.JetStream.Internal;

namespace CacheProvider.Nats.JetStream;

/// <summary>
/// The JetStream API over one <see cref="NatsConnection"/>: account info, streams, publishing with
/// acknowledgement, direct and leader reads. API errors surface as <see cref="JetStreamApiException"/>.
/// </summary>
public sealed class JetStreamContext
{
    /// <summary>Creates a context using the default API prefix <c>$JS.API</c>, or a domain's.</summary>
    public JetStreamContext(NatsConnection connection, string? domain = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Connection = connection;
        ApiPrefix = domain is null ? "$JS.API" : $"$JS.{domain}.API";
    }

    /// <summary>The connection.</summary>
    public NatsConnection Connection { get; }

    /// <summary>API subject prefix.</summary>
    public string ApiPrefix { get; }

    /// <summary>
    /// How long idempotent reads (stream info, leader and direct gets, KV gets) keep retrying after a timeout,
    /// no responders or a 503 — what a replicated stream answers while it elects a leader. Zero turns retries off.
    /// Default 10 s.
    /// </summary>
    public TimeSpan ReadRetryBudget { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long writes keep retrying after failures that prove nothing was stored — no responders or a 503, what a
    /// replicated stream answers while it elects a leader or while its new leader's interest spreads. Writes that got
    /// no reply are never repeated by this budget. Zero turns retries off. Default 2 s: enough for interest to spread
    /// after an election, short enough that a write to a deleted stream fails soon. Writes through
    /// <c>KvPutOptions</c> have their own, longer budget.
    /// </summary>
    public TimeSpan WriteRetryBudget { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Account usage, limits and the API level.</summary>
    public async ValueTask<JetStreamApiInfo> GetApiInfoAsync(CancellationToken cancellationToken = default)
    {
        var r = await RetryReadAsync(ct => ApiAsync($"{ApiPrefix}.INFO", null, JetStreamJson.Default.ApiInfoResponse, ct), cancellationToken).ConfigureAwait(false);
        return new JetStreamApiInfo { Memory = r.Memory, Storage = r.Storage, Streams = r.Streams, Consumers = r.Consumers, Limits = r.Limits, Api = r.Api };
    }

    /// <summary>Creates a stream (succeeds unchanged if an identical one exists).</summary>
    public ValueTask<StreamInfo> CreateStreamAsync(StreamConfig config, CancellationToken cancellationToken = default) =>
        StreamCommandAsync("CREATE", config, cancellationToken);

    /// <summary>Updates a stream's configuration.</summary>
    public ValueTask<StreamInfo> UpdateStreamAsync(StreamConfig config, CancellationToken cancellationToken = default) =>
        StreamCommandAsync("UPDATE", config, cancellationToken);

    /// <summary>A stream's configuration and state.</summary>
    /// <exception cref="JetStreamApiException">10059 when the stream does not exist.</exception>
    public async ValueTask<StreamInfo> GetStreamInfoAsync(string stream, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(stream);
        var r = await RetryReadAsync(ct => ApiAsync($"{ApiPrefix}.STREAM.INFO.{stream}", null, JetStreamJson.Default.StreamInfoResponse, ct), cancellationToken).ConfigureAwait(false);
        return ToInfo(r);
    }

    /// <summary>Deletes a stream and everything in it.</summary>
    public async ValueTask<bool> DeleteStreamAsync(string stream, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(stream);
        var r = await ApiAsync($"{ApiPrefix}.STREAM.DELETE.{stream}", null, JetStreamJson.Default.SuccessResponse, cancellationToken).ConfigureAwait(false);
        return r.Success;
    }

    /// <summary>Purges a stream, optionally only <paramref name="filter"/>, keeping the newest <paramref name="keep"/> per the filter.</summary>
    /// <returns>Messages removed.</returns>
    public async ValueTask<ulong> PurgeStreamAsync(string stream, string? filter = null, ulong? keep = null, ulong? upToSequence = null, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(stream);
        var body = JsonSerializer.SerializeToUtf8Bytes(new PurgeRequest { Filter = filter, Keep = keep, Seq = upToSequence }, JetStreamJson.Default.PurgeRequest);
        var r = await ApiAsync($"{ApiPrefix}.STREAM.PURGE.{stream}", body, JetStreamJson.Default.SuccessResponse, cancellationToken).ConfigureAwait(false);
        return r.Purged;
    }

    /// <summary>Names of all streams, or of those holding <paramref name="subjectFilter"/>.</summary>
    public async IAsyncEnumerable<string> ListStreamNamesAsync(string? subjectFilter = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var offset = 0;
        while (true)
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new StreamNamesRequest { Subject = subjectFilter, Offset = offset }, JetStreamJson.Default.StreamNamesRequest);
            var r = await ApiAsync($"{ApiPrefix}.STREAM.NAMES", body, JetStreamJson.Default.StreamNamesResponse, cancellationToken).ConfigureAwait(false);
            var names = r.Streams ?? [];
            foreach (var n in names)
            {
                yield return n;
            }

            offset += names.Count;
            if (names.Count == 0 || offset >= r.Total)
            {
                yield break;
            }
        }
    }

    /// <summary>
    /// Publishes to a stream subject and waits for the acknowledgement. A publish that certainly reached no stream
    /// (no responders, 503) is repeated within <see cref="WriteRetryBudget"/>; one that got no reply is not (it may
    /// have been stored: give it a <c>Nats-Msg-Id</c> to make a repeat safe).
    /// </summary>
    /// <exception cref="JetStreamApiException">The stream refused the message (wrong last sequence, invalid TTL…).</exception>
    /// <exception cref="NatsNoRespondersException">No stream holds the subject (still, after the retry budget).</exception>
    public async ValueTask<PubAck> PublishAsync(string subject, ReadOnlyMemory<byte> payload, NatsHeaders? headers = null, CancellationToken cancellationToken = default)
    {
        var r = await PublishWithRetryAsync(subject, new ReadOnlySequence<byte>(payload), headers,
            new WriteRetry(WriteRetryBudget, Repeatable: false, Idempotent: false, ReportUnknown: false), TimeProvider.System, cancellationToken).ConfigureAwait(false);
        return new PubAck { Stream = r.Stream, Seq = r.Seq, Duplicate = r.Duplicate };
    }

    /// <summary>
    /// The one write loop: publishes and repeats what <paramref name="retry"/> allows while its budget lasts. A write
    /// that certainly reached no stream (no responders, 503) is always safe to repeat — right after an election the new
    /// leader's interest in the subjects may not have reached this server yet. One that got no reply may have been
    /// stored, so it is repeated only when that cannot store it twice.
    /// </summary>
    internal async ValueTask<PubAckResponse> PublishWithRetryAsync(string subject, ReadOnlySequence<byte> payload, NatsHeaders? headers, WriteRetry retry, TimeProvider time, CancellationToken cancellationToken)
    {
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
                return await Connection.RequestAsync<PubAckResponse, JsonReplyParser<PubAckResponse>>(
                    subject, headers, payload, new(JetStreamJson.Default.PubAckResponse), null, cancellationToken).ConfigureAwait(false);
            }
            catch (JetStreamApiException ex) when (ex.IsWrongLastSequence && outcomeUnknown && !retry.Idempotent)
            {
                // An earlier unacknowledged attempt may be the write that moved the subject on.
                throw new JetStreamWriteOutcomeUnknownException(subject, attempts, ex);
            }
            catch (Exception ex) when (JetStreamRetry.IsNotDelivered(ex) || JetStreamRetry.IsNoReply(ex))
            {
                failure = ex;
                outcomeUnknown |= JetStreamRetry.IsNoReply(ex);
            }

            if ((outcomeUnknown && !retry.Repeatable) || time.GetElapsedTime(start) + backoff >= retry.Budget)
            {
                if (outcomeUnknown && retry.ReportUnknown)
                {
                    throw new JetStreamWriteOutcomeUnknownException(subject, attempts, failure);
                }

                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
            }

            await Task.Delay(backoff, time, cancellationToken).ConfigureAwait(false);
            backoff = JetStreamRetry.Next(backoff);
        }
    }

    /// <summary>Direct get of the last message on <paramref name="subject"/> (any replica or mirror may answer); null when none.</summary>
    public ValueTask<StoredMessage?> DirectGetLastAsync(string stream, string subject, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(stream);
        return RetryReadAsync(ct => Connection.RequestAsync<StoredMessage?, DirectReplyParser>(
            $"{ApiPrefix}.DIRECT.GET.{stream}.{subject}", null, ReadOnlySequence<byte>.Empty, default, null, ct), cancellationToken);
    }

    /// <summary>Direct get by sequence; null when there is no such message.</summary>
    public ValueTask<StoredMessage?> DirectGetAsync(string stream, ulong sequence, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(stream);
        var body = JsonSerializer.SerializeToUtf8Bytes(new MsgGetRequest { Seq = sequence }, JetStreamJson.Default.MsgGetRequest);
        return RetryReadAsync(ct => Connection.RequestAsync<StoredMessage?, DirectReplyParser>(
            $"{ApiPrefix}.DIRECT.GET.{stream}", null, new ReadOnlySequence<byte>(body), default, null, ct), cancellationToken);
    }

    /// <summary>
    /// Direct batch get: the last message of every subject matching <paramref name="subjects"/> (<c>multi_last</c>),
    /// streamed until the server's end-of-batch.
    /// </summary>
    public async IAsyncEnumerable<StoredMessage> DirectGetLastBatchAsync(string stream, IReadOnlyList<string> subjects, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ValidateStreamName(stream);
        var body = JsonSerializer.SerializeToUtf8Bytes(new DirectBatchRequest { MultiLast = subjects }, JetStreamJson.Default.DirectBatchRequest);
        var inbox = Connection.NewInbox();
        var sub = await Connection.SubscribeAsync(inbox, cancellationToken: cancellationToken).ConfigureAwait(false);
        await using var _ = sub.ConfigureAwait(false);
        await Connection.PublishAsync($"{ApiPrefix}.DIRECT.GET.{stream}", body, replyTo: inbox, cancellationToken: cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        while (true)
        {
            timeout.CancelAfter(Connection.Options.RequestTimeout);
            NatsMsg msg;
            try
            {
                msg = await sub.Messages.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new NatsTimeoutException($"{ApiPrefix}.DIRECT.GET.{stream}", Connection.Options.RequestTimeout);
            }

            var code = msg.StatusCode;
            if (code is 204 or 404)
            {
                yield break; // 204 EOB ends the batch; 404: nothing matched.
            }

            if (code == 503 && msg.Data.IsEmpty && string.IsNullOrEmpty(msg.Headers?.Description))
            {
                // No stream answers (missing, or without allow_direct): the same error as a single direct get.
                throw new NatsNoRespondersException($"{ApiPrefix}.DIRECT.GET.{stream}");
            }

            if (code >= 400)
            {
                throw JetStreamApiException.FromDirectGetStatus(code, msg.Headers?.Description);
            }

            yield return ToStored(msg.Headers, msg.Data);
        }
    }

    /// <summary>Reads the last message on a subject from the stream leader (read-your-writes); null when none.</summary>
    public async ValueTask<StoredMessage?> GetLastFromLeaderAsync(string stream, string subject, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(stream);
        var body = JsonSerializer.SerializeToUtf8Bytes(new MsgGetRequest { LastBySubject = subject }, JetStreamJson.Default.MsgGetRequest);
        return await LeaderGetAsync(stream, body, retry: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One leader read attempt, for callers that retry around it themselves.</summary>
    internal ValueTask<StoredMessage?> GetLastFromLeaderOnceAsync(string stream, string subject, CancellationToken cancellationToken)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(new MsgGetRequest { LastBySubject = subject }, JetStreamJson.Default.MsgGetRequest);
        return LeaderGetAsync(stream, body, retry: false, cancellationToken);
    }

    /// <summary>Reads a message by sequence from the stream leader; null when none.</summary>
    public async ValueTask<StoredMessage?> GetFromLeaderAsync(string stream, ulong sequence, CancellationToken cancellationToken = default)
    {
        ValidateStreamName(stream);
        var body = JsonSerializer.SerializeToUtf8Bytes(new MsgGetRequest { Seq = sequence }, JetStreamJson.Default.MsgGetRequest);
        return await LeaderGetAsync(stream, body, retry: true, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask<StoredMessage?> LeaderGetAsync(string stream, byte[] body, bool retry, CancellationToken cancellationToken)
    {
        MsgGetResponse r;
        try
        {
            var subject = $"{ApiPrefix}.STREAM.MSG.GET.{stream}";
            r = retry
                ? await RetryReadAsync(ct => ApiAsync(subject, body, JetStreamJson.Default.MsgGetResponse, ct), cancellationToken).ConfigureAwait(false)
                : await ApiAsync(subject, body, JetStreamJson.Default.MsgGetResponse, cancellationToken).ConfigureAwait(false);
        }
        catch (JetStreamApiException ex) when (ex.ErrorCode == JetStreamErrorCode.NoMessageFound)
        {
            return null;
        }

        var m = r.Message;
        if (m is null)
        {
            return null;
        }

        return new StoredMessage
        {
            Subject = m.Subject,
            Sequence = m.Seq,
            Timestamp = m.Time,
            Headers = m.Headers is { Length: > 0 } h ? HeaderCodec.Parse(h) : null,
            Data = m.Data ?? ReadOnlyMemory<byte>.Empty,
            Stream = stream,
        };
    }

    /// <summary>Runs an idempotent read with the retries of <see cref="ReadRetryBudget"/>.</summary>
    internal ValueTask<T> RetryReadAsync<T>(Func<CancellationToken, ValueTask<T>> read, CancellationToken cancellationToken) =>
        JetStreamRetry.ReadAsync(read, ReadRetryBudget, TimeProvider.System, cancellationToken);

    internal ValueTask<T> ApiAsync<T>(string subject, byte[]? body, JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
        where T : ApiResponse =>
        Connection.RequestAsync<T, JsonReplyParser<T>>(
            subject, null, body is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(body), new(typeInfo), null, cancellationToken);

    private async ValueTask<StreamInfo> StreamCommandAsync(string command, StreamConfig config, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(config);
        ValidateStreamName(config.Name);
        var body = JsonSerializer.SerializeToUtf8Bytes(config, JetStreamJson.Default.StreamConfig);
        var subject = $"{ApiPrefix}.STREAM.{command}.{config.Name}";

        // Create and update set a desired state: sending the same config again after a lost reply is harmless (the
        // server answers success when the stream already has it), so both retry like reads. On a busy or just-started
        // cluster a replicated create can take longer than one request timeout.
        var r = await RetryReadAsync(ct => ApiAsync(subject, body, JetStreamJson.Default.StreamInfoResponse, ct), cancellationToken).ConfigureAwait(false);
        return ToInfo(r);
    }

    private static StreamInfo ToInfo(StreamInfoResponse r) => new()
    {
        Config = r.Config ?? throw new NatsProtocolException("Stream info without config"),
        State = r.State,
        Created = r.Created,
        Mirror = r.Mirror,
        Sources = r.Sources,
        Cluster = r.Cluster,
    };

    internal static StoredMessage ToStored(NatsHeaders? headers, ReadOnlyMemory<byte> data)
    {
        string subject = string.Empty, stream = string.Empty;
        ulong seq = 0;
        var ts = default(DateTimeOffset);
        if (headers is not null)
        {
            headers.TryGetLastValue("Nats-Subject", out subject);
            headers.TryGetLastValue("Nats-Stream", out stream);
            if (headers.TryGetLastValue("Nats-Sequence", out var s))
            {
                _ = ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out seq);
            }

            if (headers.TryGetLastValue("Nats-Time-Stamp", out var t))
            {
                _ = DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out ts);
            }
        }

        return new StoredMessage { Subject = subject, Sequence = seq, Timestamp = ts, Headers = headers, Data = data, Stream = stream };
    }

    internal static void ValidateStreamName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (var c in name)
        {
            if (c is ' ' or '\t' or '\r' or '\n' or '.' or '*' or '>' or '/' or '\\' || char.IsControl(c))
            {
                throw new ArgumentException($"'{name}' is not a valid stream name", nameof(name));
            }
        }
    }

    private struct DirectReplyParser : IReplyParser<StoredMessage?>
    {
        public readonly StoredMessage? Parse(in RawMessage reply)
        {
            var code = reply.StatusCode();
            if (code == 404)
            {
                return null;
            }

            if (code >= 400)
            {
                var h = HeaderCodec.Parse(reply.Headers);
                throw JetStreamApiException.FromDirectGetStatus(code, h.Description);
            }

            var msg = reply.ToMsg();
            return ToStored(msg.Headers, msg.Data);
        }
    }
}

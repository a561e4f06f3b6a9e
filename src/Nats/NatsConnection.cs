using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using CacheProvider.Nats.Internal;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Nats;

/// <summary>
/// One connection to a NATS server or cluster: publish, subscribe, request/reply. Thread-safe. It connects
/// on first use (or <see cref="ConnectAsync"/>), reconnects by itself across the known servers, resubscribes,
/// and replays publishes buffered while disconnected (bounded by <see cref="NatsOptions.MaxPendingBytes"/>).
/// </summary>
public sealed partial class NatsConnection : IAsyncDisposable
{
    private readonly ILogger _logger;
    private readonly ServerPool _servers;
    private readonly CommandWriter _writer;
    private readonly ConcurrentDictionary<long, SubscriptionBase> _subs = new();
    private readonly object _muxLock = new();
    private RequestMux? _mux;
    private long _nextSid;

    /// <summary>Creates a connection; nothing is sent until the first operation or <see cref="ConnectAsync"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    public NatsConnection(NatsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _logger = options.LoggerFactory.CreateLogger("CacheProvider.Nats.NatsConnection");
        _servers = new ServerPool(NatsUri.ParseList(options.Url), _logger);
        _writer = new CommandWriter(options.MaxPendingBytes, OnWriteFailed);
    }

    /// <summary>Creates a connection to <paramref name="url"/> with default options.</summary>
    public NatsConnection(string url) : this(new NatsOptions { Url = url })
    {
    }

    /// <summary>The options this connection was created with.</summary>
    public NatsOptions Options { get; }

    /// <summary>The INFO of the current (or last) server; null before the first connection.</summary>
    public ServerInfo? ServerInfo => _current?.Info ?? _lastInfo;

    /// <summary>Current state.</summary>
    public NatsConnectionState State => _state;

    /// <summary>The server currently connected to, without credentials.</summary>
    public string? ConnectedServer => _state == NatsConnectionState.Connected ? _current?.Uri.ToString() : null;

    /// <summary>Number of reconnects so far.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Raised (off the I/O loop) when the connection to a server is lost.</summary>
    public event EventHandler<NatsConnectionEventArgs>? Disconnected;

    /// <summary>Raised when a connection is re-established and subscriptions are restored.</summary>
    public event EventHandler<NatsConnectionEventArgs>? Reconnected;

    /// <summary>Raised once when the connection closes for good.</summary>
    public event EventHandler<NatsConnectionEventArgs>? Closed;

    /// <summary>Raised when the server announces lame duck mode (it will shut down soon).</summary>
    public event EventHandler<NatsConnectionEventArgs>? LameDuckMode;

    /// <summary>Raised for errors that do not end the connection.</summary>
    public event EventHandler<NatsErrorEventArgs>? Error;

    /// <summary>A new unique inbox subject.</summary>
    public string NewInbox() => Options.InboxPrefix + "." + Nuid.Next();

    /// <summary>Publishes a message. Returns without waiting for the socket unless the outgoing buffer is full.</summary>
    /// <exception cref="ArgumentException">The subject is not a valid publish subject.</exception>
    /// <exception cref="NatsPayloadTooLargeException">Headers and payload exceed the server's max_payload.</exception>
    public ValueTask PublishAsync(string subject, ReadOnlyMemory<byte> payload = default, NatsHeaders? headers = null, string? replyTo = null, CancellationToken cancellationToken = default) =>
        PublishAsync(subject, new ReadOnlySequence<byte>(payload), headers, replyTo, cancellationToken);

    /// <summary>Publishes a message whose payload is a sequence of segments (not flattened).</summary>
    /// <exception cref="ArgumentException">The subject is not a valid publish subject.</exception>
    /// <exception cref="NatsPayloadTooLargeException">Headers and payload exceed the server's max_payload.</exception>
    public ValueTask PublishAsync(string subject, ReadOnlySequence<byte> payload, NatsHeaders? headers = null, string? replyTo = null, CancellationToken cancellationToken = default)
    {
        SubjectValidator.ValidatePublish(subject);
        if (replyTo is not null)
        {
            SubjectValidator.ValidatePublish(replyTo, nameof(replyTo));
        }

        var headerLength = headers is null ? 0 : HeaderCodec.GetLength(headers);
        CheckPayload(headerLength + payload.Length);
        if (_state == NatsConnectionState.New)
        {
            return PublishAfterConnectAsync(subject, payload, headers, headerLength, replyTo, cancellationToken);
        }

        if (_writer.TryWritePublish(subject, replyTo, headers, headerLength, payload))
        {
            return ValueTask.CompletedTask;
        }

        return PublishSlowAsync(subject, payload, headers, headerLength, replyTo, cancellationToken);
    }

    /// <summary>Subscribes to <paramref name="subject"/> (wildcards allowed).</summary>
    /// <param name="subject">Subject or wildcard pattern.</param>
    /// <param name="queueGroup">Queue group: each message goes to one member of the group.</param>
    /// <param name="maxMessages">Unsubscribe automatically after this many messages (server side too); null = never.</param>
    /// <param name="cancellationToken">Cancels waiting for the first connection.</param>
    public async ValueTask<NatsSubscription> SubscribeAsync(string subject, string? queueGroup = null, int? maxMessages = null, CancellationToken cancellationToken = default)
    {
        SubjectValidator.ValidateSubscribe(subject);
        if (queueGroup is not null)
        {
            SubjectValidator.ValidateToken(queueGroup, nameof(queueGroup));
        }

        if (maxMessages is <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(maxMessages), maxMessages, "must be positive");
        }

        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        var sub = new NatsSubscription(this, subject, queueGroup, maxMessages ?? 0, Options.SubscriptionCapacity);
        Register(sub.Core);
        return sub;
    }

    /// <summary>Sends a request and waits for the first reply.</summary>
    /// <exception cref="NatsNoRespondersException">Nobody listens on the subject.</exception>
    /// <exception cref="NatsTimeoutException">No reply within the timeout.</exception>
    public ValueTask<NatsMsg> RequestAsync(string subject, ReadOnlyMemory<byte> payload = default, NatsHeaders? headers = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        RequestAsync<NatsMsg, MsgParser>(subject, headers, new ReadOnlySequence<byte>(payload), default, timeout, cancellationToken);

    /// <summary>Waits until the server has processed everything sent so far (a PING/PONG round trip).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        await _writer.WritePing(keepalive: false).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Measures a PING/PONG round trip.</summary>
    public async Task<TimeSpan> PingAsync(CancellationToken cancellationToken = default)
    {
        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        await _writer.WritePing(keepalive: false).WaitAsync(cancellationToken).ConfigureAwait(false);
        return System.Diagnostics.Stopwatch.GetElapsedTime(start);
    }

    /// <summary>
    /// The request path used by JetStream and KV: the parser turns the reply into <typeparamref name="T"/> on the
    /// read loop, while the reply still sits in the receive buffer.
    /// </summary>
    internal ValueTask<T> RequestAsync<T, TParser>(string subject, NatsHeaders? headers, ReadOnlySequence<byte> payload, TParser parser, TimeSpan? timeout, CancellationToken cancellationToken)
        where TParser : IReplyParser<T> =>
        RequestAsync<T, TParser>(subject, string.Empty, headers, payload, parser, timeout, cancellationToken);

    /// <summary>
    /// A request to <paramref name="subjectPrefix"/> + <paramref name="subjectSuffix"/>: the parts are written to the
    /// wire one after the other, so a per-key subject (KV direct get) costs no string per request.
    /// </summary>
    internal ValueTask<T> RequestAsync<T, TParser>(string subjectPrefix, string subjectSuffix, NatsHeaders? headers, ReadOnlySequence<byte> payload, TParser parser, TimeSpan? timeout, CancellationToken cancellationToken)
        where TParser : IReplyParser<T>
    {
        SubjectValidator.ValidatePublishParts(subjectPrefix, subjectSuffix);
        var headerLength = headers is null ? 0 : HeaderCodec.GetLength(headers);
        CheckPayload(headerLength + payload.Length);
        cancellationToken.ThrowIfCancellationRequested();
        if (_state == NatsConnectionState.New || _mux is null)
        {
            return RequestAfterConnectAsync<T, TParser>(subjectPrefix, subjectSuffix, headers, payload, parser, timeout, cancellationToken);
        }

        var mux = _mux;
        var pending = PendingReply<T, TParser>.Rent();
        var token = mux.NextToken();
        pending.Init(mux, token, subjectPrefix, subjectSuffix, parser, timeout ?? Options.RequestTimeout, cancellationToken);
        mux.Add(pending);
        pending.RegisterCancellation();
        var version = pending.Version;
        try
        {
            if (!_writer.TryWriteRequest(subjectPrefix, subjectSuffix, mux.ReplyPrefix, token, headers, headerLength, payload))
            {
                return WaitThenRequestAsync(pending, version, subjectPrefix, subjectSuffix, mux, token, headers, headerLength, payload, cancellationToken);
            }
        }
        catch (Exception ex)
        {
            if (mux.TryRemove(token))
            {
                pending.Fail(ex);
            }
        }

        return new ValueTask<T>(pending, version);
    }

    private async ValueTask<T> WaitThenRequestAsync<T, TParser>(
        PendingReply<T, TParser> pending, short version, string subjectPrefix, string subjectSuffix, RequestMux mux, long token, NatsHeaders? headers, int headerLength, ReadOnlySequence<byte> payload, CancellationToken cancellationToken)
        where TParser : IReplyParser<T>
    {
        try
        {
            var size = CommandWriter.MeasurePublish(subjectPrefix, mux.ReplyPrefix, headerLength, payload.Length, subjectSuffix);
            do
            {
                await _writer.WaitForSpaceAsync(size, cancellationToken).ConfigureAwait(false);
            }
            while (!_writer.TryWriteRequest(subjectPrefix, subjectSuffix, mux.ReplyPrefix, token, headers, headerLength, payload));
        }
        catch (Exception ex)
        {
            if (mux.TryRemove(token))
            {
                pending.Fail(ex);
            }
        }

        return await new ValueTask<T>(pending, version).ConfigureAwait(false);
    }

    private async ValueTask<T> RequestAfterConnectAsync<T, TParser>(string subjectPrefix, string subjectSuffix, NatsHeaders? headers, ReadOnlySequence<byte> payload, TParser parser, TimeSpan? timeout, CancellationToken cancellationToken)
        where TParser : IReplyParser<T>
    {
        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        EnsureMux();
        return await RequestAsync<T, TParser>(subjectPrefix, subjectSuffix, headers, payload, parser, timeout, cancellationToken).ConfigureAwait(false);
    }

    private void EnsureMux()
    {
        if (_mux is not null)
        {
            return;
        }

        lock (_muxLock)
        {
            if (_mux is null)
            {
                var mux = new RequestMux(Options.InboxPrefix);
                Register(mux);
                _mux = mux;
            }
        }
    }

    private async ValueTask PublishAfterConnectAsync(string subject, ReadOnlySequence<byte> payload, NatsHeaders? headers, int headerLength, string? replyTo, CancellationToken cancellationToken)
    {
        await EnsureConnectedAsync(cancellationToken).ConfigureAwait(false);
        CheckPayload(headerLength + payload.Length);
        await PublishSlowAsync(subject, payload, headers, headerLength, replyTo, cancellationToken).ConfigureAwait(false);
    }

    private async ValueTask PublishSlowAsync(string subject, ReadOnlySequence<byte> payload, NatsHeaders? headers, int headerLength, string? replyTo, CancellationToken cancellationToken)
    {
        var size = CommandWriter.MeasurePublish(subject, replyTo, headerLength, payload.Length);
        while (!_writer.TryWritePublish(subject, replyTo, headers, headerLength, payload))
        {
            await _writer.WaitForSpaceAsync(size, cancellationToken).ConfigureAwait(false);
        }
    }

    private void Register(SubscriptionBase sub)
    {
        sub.Sid = Interlocked.Increment(ref _nextSid);
        _subs[sub.Sid] = sub;
        var sb = new StringBuilder(64).Append("SUB ").Append(sub.Subject).Append(' ');
        if (sub.QueueGroup is not null)
        {
            sb.Append(sub.QueueGroup).Append(' ');
        }

        sb.Append(sub.Sid).Append("\r\n");
        if (sub.MaxMessages > 0)
        {
            sb.Append("UNSUB ").Append(sub.Sid).Append(' ').Append(sub.MaxMessages).Append("\r\n");
        }

        _writer.WriteControl(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    internal ValueTask UnsubscribeAsync(SubscriptionBase sub)
    {
        if (_subs.TryRemove(sub.Sid, out _))
        {
            sub.Complete(null);
            if (_state is NatsConnectionState.Connected or NatsConnectionState.Reconnecting)
            {
                try
                {
                    _writer.WriteControl(Encoding.ASCII.GetBytes($"UNSUB {sub.Sid}\r\n"));
                }
                catch (NatsException)
                {
                    // Closed meanwhile: the server already forgot the subscription.
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    internal void ReportSlowConsumer(string subject)
    {
        _logger.LogWarning("Slow consumer on {Subject}: messages are being dropped", subject);
        RaiseError(new NatsException($"Slow consumer on \"{subject}\": messages dropped"));
    }

    private void CheckPayload(long size)
    {
        var limit = ServerInfo?.MaxPayload ?? 1024 * 1024;
        if (size > limit)
        {
            throw new NatsPayloadTooLargeException(size, limit);
        }
    }

    private struct MsgParser : IReplyParser<NatsMsg>
    {
        public readonly NatsMsg Parse(in RawMessage reply) => reply.ToMsg();
    }
}

using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using CacheProvider.Nats.JetStream.Internal;

namespace CacheProvider.Nats.JetStream;

/// <summary>
/// An ephemeral, ordered push consumer: no acks, flow control and idle heartbeats on. It checks that consumer
/// sequences arrive without gaps; on a gap, missed heartbeats, a slow-consumer drop or a reconnect it
/// recreates itself from the last stream sequence it delivered, so a reader sees every message once, in order.
/// A <see cref="DeliverPolicy.LastPerSubject"/> consumer interrupted before it delivered its whole snapshot takes a
/// fresh snapshot instead and skips what it already delivered: resuming by sequence would hand out the superseded
/// revisions stored after the resume point.
/// </summary>
public sealed class OrderedConsumer : IAsyncDisposable
{
    private readonly JetStreamContext _js;
    private readonly string _stream;
    private readonly OrderedConsumerOptions _options;
    private NatsSubscription? _sub;
    private string? _consumerName;
    private ulong _lastStreamSeq;
    private bool _positionKnown;
    private ulong _lastConsumerSeq;
    private ulong _snapshotRemaining;
    private ulong _skipThroughSeq;
    private long _droppedSeen;
    private volatile bool _resetRequested;
    private CancellationTokenSource? _waitCts;

    private OrderedConsumer(JetStreamContext js, string stream, OrderedConsumerOptions options)
    {
        _js = js;
        _stream = stream;
        _options = options;
    }

    /// <summary>Messages pending when the consumer was first created (what a reader must see to be "caught up").</summary>
    public ulong InitialPending { get; private set; }

    /// <summary>How often the consumer was recreated.</summary>
    public int Resets { get; private set; }

    /// <summary>Raised after the consumer was recreated (a watch gap was healed): the argument is the reason.</summary>
    public event EventHandler<string>? Reset;

    /// <summary>Creates the consumer on the server.</summary>
    public static async Task<OrderedConsumer> CreateAsync(JetStreamContext js, string stream, OrderedConsumerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(js);
        ArgumentNullException.ThrowIfNull(options);
        JetStreamContext.ValidateStreamName(stream);
        if (options.IdleHeartbeat < TimeSpan.FromMilliseconds(100))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.IdleHeartbeat, "IdleHeartbeat must be at least 100 ms");
        }

        var consumer = new OrderedConsumer(js, stream, options);
        js.Connection.Reconnected += consumer.OnReconnected;
        try
        {
            consumer.InitialPending = await consumer.CreateServerConsumerAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await consumer.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return consumer;
    }

    /// <summary>Reads messages in stream order until cancelled. Heartbeats and flow control are handled here.</summary>
    public async IAsyncEnumerable<JetStreamMsg> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var heartbeatTimeout = _options.IdleHeartbeat * 3;
        var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_resetRequested || (_sub is not null && _sub.Dropped != _droppedSeen))
                {
                    await RecreateAsync(_resetRequested ? "reconnected" : "messages dropped", cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var sub = _sub!;
                if (!sub.Messages.TryRead(out var msg))
                {
                    if (!timer.TryReset())
                    {
                        timer.Dispose();
                        timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    }

                    timer.CancelAfter(heartbeatTimeout);
                    Volatile.Write(ref _waitCts, timer);
                    try
                    {
                        // A reconnect may have happened before the wait started: its wake-up would be lost.
                        if (_resetRequested)
                        {
                            continue;
                        }

                        if (!await sub.Messages.WaitToReadAsync(timer.Token).ConfigureAwait(false))
                        {
                            await RecreateAsync("subscription ended", cancellationToken).ConfigureAwait(false);
                        }
                    }
                    catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                    {
                        // Cancelled by a reconnect (handled at the top of the loop) or by silence.
                        if (!_resetRequested)
                        {
                            await RecreateAsync("missed heartbeats", cancellationToken).ConfigureAwait(false);
                        }
                    }
                    catch (NatsException) when (!cancellationToken.IsCancellationRequested)
                    {
                        await RecreateAsync("subscription failed", cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        Volatile.Write(ref _waitCts, null);
                    }

                    continue;
                }

                if (msg.StatusCode == 100)
                {
                    await HandleControlAsync(msg, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (msg.StatusCode != 0 || msg.ReplyTo is null || !TryParseAck(msg.ReplyTo, out var sseq, out var cseq, out var ts, out var pending))
                {
                    continue;
                }

                if (cseq != _lastConsumerSeq + 1)
                {
                    await RecreateAsync($"gap: consumer sequence {cseq} after {_lastConsumerSeq}", cancellationToken).ConfigureAwait(false);
                    continue;
                }

                _lastConsumerSeq = cseq;
                if (_snapshotRemaining > 0)
                {
                    _snapshotRemaining--;
                }

                if (sseq <= _skipThroughSeq)
                {
                    // Already delivered before a last-per-subject snapshot was retaken.
                    continue;
                }

                _lastStreamSeq = sseq;
                yield return new JetStreamMsg(msg, sseq, cseq, ts, pending);
            }
        }
        finally
        {
            Volatile.Write(ref _waitCts, null);
            timer.Dispose();
        }
    }

    /// <summary>Deletes the server consumer and the subscription.</summary>
    public async ValueTask DisposeAsync()
    {
        _js.Connection.Reconnected -= OnReconnected;
        await DropServerConsumerAsync().ConfigureAwait(false);
    }

    private void OnReconnected(object? sender, NatsConnectionEventArgs e)
    {
        // The server may have lost the consumer (restart): recreate now rather than after three missed heartbeats,
        // so a reader waiting for messages is woken up.
        _resetRequested = true;
        try
        {
            Volatile.Read(ref _waitCts)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The reader finished that wait meanwhile; it sees the flag on its next turn.
        }
    }

    private async Task HandleControlAsync(NatsMsg msg, CancellationToken cancellationToken)
    {
        if (msg.ReplyTo is not null)
        {
            // Flow control request (or a stalled-consumer heartbeat): answering lets the server continue.
            await _js.Connection.PublishAsync(msg.ReplyTo, cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }

        var headers = msg.Headers!;
        if (headers.TryGetValue("Nats-Consumer-Stalled", out var stalled))
        {
            await _js.Connection.PublishAsync(stalled, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        // An idle heartbeat names the last consumer sequence the server sent: if we have less, we lost something.
        if (headers.TryGetValue("Nats-Last-Consumer", out var last) &&
            ulong.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var lastSent) &&
            lastSent != _lastConsumerSeq)
        {
            await RecreateAsync($"heartbeat reports consumer sequence {lastSent}, delivered {_lastConsumerSeq}", cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task RecreateAsync(string reason, CancellationToken cancellationToken)
    {
        _resetRequested = false;
        Resets++;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                await DropServerConsumerAsync().ConfigureAwait(false);
                await CreateServerConsumerAsync(cancellationToken).ConfigureAwait(false);
                Reset?.Invoke(this, reason);
                return;
            }
            catch (JetStreamApiException ex) when (ex.ErrorCode == JetStreamErrorCode.StreamNotFound)
            {
                throw;
            }
            catch (NatsException) when (!cancellationToken.IsCancellationRequested)
            {
                // Server away (restarting, leader election): try again until it answers.
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    private async Task<ulong> CreateServerConsumerAsync(CancellationToken cancellationToken)
    {
        var connection = _js.Connection;
        var inbox = connection.NewInbox();
        _sub = await connection.SubscribeAsync(inbox, cancellationToken: cancellationToken).ConfigureAwait(false);
        _droppedSeen = 0;
        _lastConsumerSeq = 0;

        // A last-per-subject snapshot is delivered in stream order but with gaps (the superseded revisions): resuming it
        // by sequence would deliver those. Until the snapshot is through, take a new one and skip what was delivered.
        var retakeSnapshot = _options.DeliverPolicy == DeliverPolicy.LastPerSubject && _snapshotRemaining > 0;
        var resuming = !retakeSnapshot && (_lastStreamSeq > 0 || _positionKnown);
        var policy = resuming ? DeliverPolicy.ByStartSequence : _options.DeliverPolicy;
        _skipThroughSeq = retakeSnapshot ? _lastStreamSeq : 0;
        var config = new ConsumerConfigJson
        {
            DeliverSubject = inbox,
            DeliverPolicy = policy switch
            {
                DeliverPolicy.All => "all",
                DeliverPolicy.LastPerSubject => "last_per_subject",
                DeliverPolicy.New => "new",
                _ => "by_start_sequence",
            },
            OptStartSeq = policy == DeliverPolicy.ByStartSequence ? (resuming ? _lastStreamSeq + 1 : Math.Max(1, _options.StartSequence)) : null,
            FilterSubjects = _options.FilterSubjects is { Count: > 0 } f ? f : null,
            FlowControl = true,
            IdleHeartbeat = _options.IdleHeartbeat,
            HeadersOnly = _options.HeadersOnly,
            MemoryStorage = true,
            Replicas = 1,
            InactiveThreshold = TimeSpan.FromMinutes(1),
        };
        var body = JsonSerializer.SerializeToUtf8Bytes(new ConsumerCreateRequest { StreamName = _stream, Config = config }, JetStreamJson.Default.ConsumerCreateRequest);
        var info = await _js.ApiAsync($"{_js.ApiPrefix}.CONSUMER.CREATE.{_stream}", body, JetStreamJson.Default.ConsumerInfoResponse, cancellationToken).ConfigureAwait(false);
        _consumerName = info.Name;
        if (!resuming && policy == DeliverPolicy.New)
        {
            // "New" means after the stream's last message at creation. Remember that position: recreating with
            // "new" after a restart would skip whatever was stored between the restart and the recreation.
            _lastStreamSeq = info.Delivered?.StreamSeq ?? 0;
            _positionKnown = true;
        }

        // For a last-per-subject consumer the pending count at creation is the snapshot size (one per subject).
        _snapshotRemaining = policy == DeliverPolicy.LastPerSubject ? info.NumPending : 0;
        return info.NumPending;
    }

    private async Task DropServerConsumerAsync()
    {
        var sub = _sub;
        var name = _consumerName;
        _sub = null;
        _consumerName = null;
        if (sub is not null)
        {
            await sub.DisposeAsync().ConfigureAwait(false);
        }

        if (name is not null && _js.Connection.State == NatsConnectionState.Connected)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _js.ApiAsync($"{_js.ApiPrefix}.CONSUMER.DELETE.{_stream}.{name}", null, JetStreamJson.Default.SuccessResponse, cts.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NatsException or OperationCanceledException)
            {
                // Best effort: an abandoned consumer goes away by itself after its inactive threshold.
            }
        }
    }

    /// <summary>
    /// Parses <c>$JS.ACK.&lt;stream&gt;.&lt;consumer&gt;.&lt;delivered&gt;.&lt;sseq&gt;.&lt;cseq&gt;.&lt;ns&gt;.&lt;pending&gt;</c>
    /// (or the v2 form with domain and account hash, 11–12 tokens).
    /// </summary>
    internal static bool TryParseAck(string replyTo, out ulong streamSeq, out ulong consumerSeq, out DateTimeOffset timestamp, out ulong pending)
    {
        streamSeq = consumerSeq = pending = 0;
        timestamp = default;
        Span<Range> tokens = stackalloc Range[13];
        var span = replyTo.AsSpan();
        var count = span.Split(tokens, '.');
        if (count < 9 || !span[tokens[0]].SequenceEqual("$JS") || !span[tokens[1]].SequenceEqual("ACK"))
        {
            return false;
        }

        var offset = count == 9 ? 2 : 4;
        if (offset + 6 >= count ||
            !ulong.TryParse(span[tokens[offset + 3]], NumberStyles.None, CultureInfo.InvariantCulture, out streamSeq) ||
            !ulong.TryParse(span[tokens[offset + 4]], NumberStyles.None, CultureInfo.InvariantCulture, out consumerSeq) ||
            !long.TryParse(span[tokens[offset + 5]], NumberStyles.None, CultureInfo.InvariantCulture, out var nanos) ||
            !ulong.TryParse(span[tokens[offset + 6]], NumberStyles.None, CultureInfo.InvariantCulture, out pending))
        {
            return false;
        }

        timestamp = DateTimeOffset.UnixEpoch.AddTicks(nanos / 100);
        return true;
    }
}

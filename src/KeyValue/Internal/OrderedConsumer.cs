using System.Globalization;
using System.Runtime.CompilerServices;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace CacheProvider.KeyValue.Internal;

/// <summary>Where an ordered consumer starts.</summary>
internal enum DeliverPolicy
{
    All,
    LastPerSubject,
    New,
    ByStartSequence,
}

/// <summary>Settings of an <see cref="OrderedConsumer"/>.</summary>
internal sealed record OrderedConsumerOptions
{
    public IReadOnlyList<string> FilterSubjects { get; init; } = [];

    public DeliverPolicy DeliverPolicy { get; init; } = DeliverPolicy.All;

    public ulong StartSequence { get; init; }

    public bool HeadersOnly { get; init; }

    public TimeSpan IdleHeartbeat { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>A message delivered by a consumer, with the stream metadata of its reply subject.</summary>
internal readonly record struct Delivery(RawMsg Msg, ulong StreamSequence, ulong ConsumerSequence, long TimestampTicks, ulong Pending);

/// <summary>
/// An ephemeral, ordered push consumer: no acks, flow control and idle heartbeats on. It checks that consumer
/// sequences arrive without gaps; on a gap, missed heartbeats, a heartbeat naming a later sequence or a reconnect it
/// recreates itself from the last stream sequence it delivered, so a reader sees every message once, in order. A
/// last-per-subject consumer interrupted before it delivered its whole snapshot takes a fresh snapshot instead and
/// skips what it already delivered: resuming by sequence would hand out the superseded revisions stored after the
/// resume point.
/// </summary>
/// <remarks>
/// NATS.Net's ordered consumers recover only after two missed heartbeats (≈ 10 s after a reconnect), lost a write made
/// right after a server restart, resume an interrupted snapshot by sequence, and report no resync; a KV watch that
/// invalidates caches needs all four.
/// </remarks>
internal sealed class OrderedConsumer : IAsyncDisposable
{
    private readonly JsApi _js;
    private readonly string _stream;
    private readonly OrderedConsumerOptions _options;
    private RawInbox? _inbox;
    private string? _consumerName;
    private ulong _lastStreamSeq;
    private bool _positionKnown;
    private ulong _lastConsumerSeq;
    private ulong _snapshotRemaining;
    private ulong _skipThroughSeq;
    private volatile bool _resetRequested;
    private CancellationTokenSource? _waitCts;
    private LeaderAdvisories? _advisories;

    // Completed by every reconnect: a recreation waiting out its backoff tries again at once when the server is back.
    private TaskCompletionSource _reconnected = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private OrderedConsumer(JsApi js, string stream, OrderedConsumerOptions options)
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
    public static async Task<OrderedConsumer> CreateAsync(JsApi js, string stream, OrderedConsumerOptions options, CancellationToken cancellationToken)
    {
        if (options.IdleHeartbeat < TimeSpan.FromMilliseconds(100))
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.IdleHeartbeat, "IdleHeartbeat must be at least 100 ms");
        }

        var consumer = new OrderedConsumer(js, stream, options);
        js.Connection.ConnectionOpened += consumer.OnConnectionOpened;
        try
        {
            consumer._advisories = (await RequestMux.GetAsync(js.Connection, cancellationToken).ConfigureAwait(false)).Advisories;
            consumer._advisories.LeaderElected += consumer.OnLeaderElected;
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
    public async IAsyncEnumerable<Delivery> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var heartbeatTimeout = _options.IdleHeartbeat * 3;
        var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_resetRequested)
                {
                    await RecreateAsync("reconnected", cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var inbox = _inbox!;
                if (!inbox.Messages.TryRead(out var msg))
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

                        if (!await inbox.Messages.WaitToReadAsync(timer.Token).ConfigureAwait(false))
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
                    finally
                    {
                        Volatile.Write(ref _waitCts, null);
                    }

                    continue;
                }

                if (msg.Status == 100)
                {
                    await HandleControlAsync(msg, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (msg.Status != 0 || msg.ReplyTo is null || !TryParseAck(msg.ReplyTo, out var sseq, out var cseq, out var ticks, out var pending))
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
                    continue; // already delivered before a last-per-subject snapshot was retaken
                }

                _lastStreamSeq = sseq;
                yield return new Delivery(msg, sseq, cseq, ticks, pending);
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
        _js.Connection.ConnectionOpened -= OnConnectionOpened;
        if (_advisories is not null)
        {
            _advisories.LeaderElected -= OnLeaderElected;
        }

        await DropServerConsumerAsync().ConfigureAwait(false);
    }

    private void OnLeaderElected(string stream)
    {
        // Our consumer lived on the stream's old leader (a replicated stream places it there): it is gone with it.
        if (string.Equals(stream, _stream, StringComparison.Ordinal))
        {
            RequestReset();
        }
    }

    private ValueTask OnConnectionOpened(object? sender, NatsEventArgs e)
    {
        // The server may have lost the consumer (restart): recreate now rather than after three missed heartbeats,
        // so a reader waiting for messages is woken up.
        RequestReset();
        return default;
    }

    private void RequestReset()
    {
        _resetRequested = true;
        Interlocked.Exchange(ref _reconnected, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        try
        {
            Volatile.Read(ref _waitCts)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The reader finished that wait meanwhile; it sees the flag on its next turn.
        }
    }

    private async Task HandleControlAsync(RawMsg msg, CancellationToken cancellationToken)
    {
        if (msg.ReplyTo is not null)
        {
            // Flow control request: answering lets the server continue.
            await _js.Connection.PublishAsync(msg.ReplyTo, cancellationToken: cancellationToken).ConfigureAwait(false);
            return;
        }

        if (msg.Header("Nats-Consumer-Stalled"u8) is { } stalled)
        {
            await _js.Connection.PublishAsync(stalled, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        // An idle heartbeat names the last consumer sequence the server sent: if we have less, we lost something.
        if (msg.Header("Nats-Last-Consumer"u8) is { } last &&
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
            var reconnected = Volatile.Read(ref _reconnected).Task;
            try
            {
                await DropServerConsumerAsync().ConfigureAwait(false);
                await CreateServerConsumerAsync(cancellationToken).ConfigureAwait(false);
                Reset?.Invoke(this, reason);
                return;
            }
            catch (NatsJSApiException ex) when (ex.Error.ErrCode == JetStreamErrorCodes.StreamNotFound)
            {
                throw;
            }
            catch (NatsException) when (!cancellationToken.IsCancellationRequested)
            {
                // Server away (restarting, leader election): try again until it answers — at once after a reconnect,
                // so a watch resumes as soon as the server is back, not up to a backoff later.
                await Task.WhenAny(Task.Delay(delay, cancellationToken), reconnected).ConfigureAwait(false);
                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 2000));
            }
        }
    }

    private async Task<ulong> CreateServerConsumerAsync(CancellationToken cancellationToken)
    {
        _inbox = await RawInbox.SubscribeAsync(_js.Connection, cancellationToken).ConfigureAwait(false);
        _lastConsumerSeq = 0;

        var retakeSnapshot = _options.DeliverPolicy == DeliverPolicy.LastPerSubject && _snapshotRemaining > 0;
        var resuming = !retakeSnapshot && (_lastStreamSeq > 0 || _positionKnown);
        var policy = resuming ? DeliverPolicy.ByStartSequence : _options.DeliverPolicy;
        _skipThroughSeq = retakeSnapshot ? _lastStreamSeq : 0;
        var config = new ConsumerConfig
        {
            DeliverSubject = _inbox.Subject,
            DeliverPolicy = policy switch
            {
                DeliverPolicy.All => ConsumerConfigDeliverPolicy.All,
                DeliverPolicy.LastPerSubject => ConsumerConfigDeliverPolicy.LastPerSubject,
                DeliverPolicy.New => ConsumerConfigDeliverPolicy.New,
                _ => ConsumerConfigDeliverPolicy.ByStartSequence,
            },
            OptStartSeq = policy == DeliverPolicy.ByStartSequence ? (resuming ? _lastStreamSeq + 1 : Math.Max(1, _options.StartSequence)) : 0,
            FilterSubjects = _options.FilterSubjects.Count > 0 ? [.. _options.FilterSubjects] : null,
            AckPolicy = ConsumerConfigAckPolicy.None,
            FlowControl = true,
            IdleHeartbeat = _options.IdleHeartbeat,
            HeadersOnly = _options.HeadersOnly,
            MemStorage = true,
            NumReplicas = 1,
            InactiveThreshold = TimeSpan.FromMinutes(1),
        };
        var consumer = await _js.Js.CreateOrUpdateConsumerAsync(_stream, config, cancellationToken).ConfigureAwait(false);
        var info = consumer.Info;
        _consumerName = info.Name;
        if (!resuming && policy == DeliverPolicy.New)
        {
            // "New" means after the stream's last message at creation. Remember that position: recreating with "new"
            // after a restart would skip whatever was stored between the restart and the recreation.
            _lastStreamSeq = info.Delivered?.StreamSeq ?? 0;
            _positionKnown = true;
        }

        // For a last-per-subject consumer the pending count at creation is the snapshot size (one per subject).
        _snapshotRemaining = policy == DeliverPolicy.LastPerSubject ? info.NumPending : 0;
        return info.NumPending;
    }

    private async Task DropServerConsumerAsync()
    {
        var inbox = _inbox;
        var name = _consumerName;
        _inbox = null;
        _consumerName = null;
        if (inbox is not null)
        {
            await inbox.DisposeAsync().ConfigureAwait(false);
        }

        if (name is not null && _js.Connection.ConnectionState == NatsConnectionState.Open)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await _js.Js.DeleteConsumerAsync(_stream, name, cts.Token).ConfigureAwait(false);
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
    internal static bool TryParseAck(string replyTo, out ulong streamSeq, out ulong consumerSeq, out long utcTicks, out ulong pending)
    {
        streamSeq = consumerSeq = pending = 0;
        utcTicks = 0;
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

        utcTicks = DateTime.UnixEpoch.Ticks + (nanos / 100);
        return true;
    }
}

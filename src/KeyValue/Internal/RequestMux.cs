using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using NATS.Client.Core;

namespace CacheProvider.KeyValue.Internal;

/// <summary>Turns a reply, as it sits in the receive buffer, into a result. Runs on the connection's read loop.</summary>
internal interface IReplyParser<out T>
{
    /// <param name="status">Status code of the header block (0: none).</param>
    /// <param name="headers">The contiguous header block (empty when there is none).</param>
    /// <param name="payload">The payload, still in the receive buffer.</param>
    T Parse(int status, ReadOnlySpan<byte> headers, in ReadOnlySequence<byte> payload);
}

/// <summary>
/// Request/reply over one wildcard inbox subscription per connection, with our own correlation. NATS.Net's
/// <c>RequestAsync</c> builds a header dictionary, a reply task, a TaskCompletionSource, an inbox string and a timer per
/// request (≈ 2.8 KB); here a request reuses a pooled waiter and one of a set of reply subjects built once, and the
/// reply is parsed while it is still in the receive buffer.
/// </summary>
/// <remarks>
/// A reply subject is reused only after its request got its reply. A request that timed out or was cancelled retires
/// its subject for good (a late reply to it finds no one), so a reply can never be taken for another request's.
/// Timeouts are swept by one timer for all requests. When the connection drops, every request already sent fails at
/// once with <see cref="KvConnectionLostException"/> (its reply can no longer arrive on this connection) instead of
/// waiting out its timeout; requests not sent yet wait for the reconnect inside NATS.Net, on their own clock.
/// </remarks>
internal sealed class RequestMux : NatsSubBase, IAsyncDisposable
{
    private static readonly ConditionalWeakTable<INatsConnection, Task<RequestMux>> Muxes = new();
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(20);
    private readonly ConcurrentQueue<int> _free = new();
    private readonly Lock _grow = new();
    private readonly Timer _sweeper;
    private readonly string _prefix;
    private const int ChunkBits = 8;
    private const int ChunkSize = 1 << ChunkBits;

    // Slots live in fixed chunks that never move, so a slot can be written and compare-exchanged without a lock.
    private readonly PendingRequest?[]?[] _inFlight = new PendingRequest?[]?[4096];
    private readonly string[]?[] _subjects = new string[]?[4096];
    private readonly Queue<(int Slot, long RetiredAt)> _retired = new();
    private int _nextSlot;
    private volatile bool _closed;

    private RequestMux(INatsConnection connection, string prefix)
        : base(connection, connection.SubscriptionManager, prefix + "*", queueGroup: null, opts: null)
    {
        _prefix = prefix;
        Advisories = new LeaderAdvisories(connection);
        _sweeper = new Timer(static s => ((RequestMux)s!).Sweep(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Stream leader elections heard on this connection (also used by watches to move to the new leader).</summary>
    public LeaderAdvisories Advisories { get; }

    /// <summary>The connection's mux, subscribed on first use (which connects the connection).</summary>
    public static ValueTask<RequestMux> GetAsync(INatsConnection connection, CancellationToken cancellationToken)
    {
        var task = Muxes.GetValue(connection, static c => CreateAsync(c));
        if (task.IsCompletedSuccessfully && !task.Result._closed)
        {
            return new ValueTask<RequestMux>(task.Result);
        }

        return GetSlowAsync(connection, task, cancellationToken);
    }

    private static async ValueTask<RequestMux> GetSlowAsync(INatsConnection connection, Task<RequestMux> task, CancellationToken cancellationToken)
    {
        try
        {
            var mux = await task.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!mux._closed)
            {
                return mux;
            }
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested && task.IsCompleted)
        {
            // A failed subscribe (server down at first use) is not remembered: the next call tries again.
        }

        lock (Muxes)
        {
            if (Muxes.TryGetValue(connection, out var current) && ReferenceEquals(current, task))
            {
                Muxes.Remove(connection);
            }
        }

        return await Muxes.GetValue(connection, static c => CreateAsync(c)).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<RequestMux> CreateAsync(INatsConnection connection)
    {
        // Under the connection's inbox prefix (what permissions usually allow for replies), but not under NATS.Net's
        // own inbox, which routes replies by exact subject.
        var mux = new RequestMux(connection, $"{connection.Opts.InboxPrefix}.{NewToken()}.");
        await connection.AddSubAsync(mux).ConfigureAwait(false);
        connection.ConnectionDisconnected += mux.OnDisconnected;
        mux.Advisories.LeaderElected += mux.OnLeaderElected;
        try
        {
            await connection.AddSubAsync(mux.Advisories).ConfigureAwait(false);
        }
        catch (NatsException)
        {
            // Only the early end of requests to a dead leader is lost: they then wait for their timeout, as before.
        }

        mux._sweeper.Change(SweepInterval, SweepInterval);
        return mux;
    }

    /// <summary>
    /// Sends <paramref name="payload"/> to <paramref name="subject"/> and returns the parsed reply. A reply with status
    /// 503 and no payload ("no responders": no stream holds the subject) fails with <see cref="NatsNoRespondersException"/>;
    /// no reply within <paramref name="timeout"/> with <see cref="KvTimeoutException"/>.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<T> RequestAsync<T, TParser>(string subject, ReadOnlySequence<byte> payload, NatsHeaders? headers, TParser parser, TimeSpan timeout, CancellationToken cancellationToken)
        where TParser : IReplyParser<T>
    {
        cancellationToken.ThrowIfCancellationRequested();
        var pending = PendingRequest<T, TParser>.Rent();
        var slot = RentSlot();
        pending.Init(this, slot, subject, parser, timeout, cancellationToken);
        var version = pending.Version;
        Volatile.Write(ref Cell(slot), pending);
        pending.RegisterCancellation();
        try
        {
            // NATS.Net copies the message before its first await; while disconnected it then waits for the reconnect.
            // The reply wait must not wait with it: the request times out on its own clock, and a publish still pending
            // is watched in the background (should it fail, the request fails with it if it has not timed out yet).
            var publish = Connection.PublishAsync(subject, payload, headers, _subjects[slot >> ChunkBits]![slot & (ChunkSize - 1)], NatsRawSerializer<ReadOnlySequence<byte>>.Default, cancellationToken: cancellationToken);
            if (publish.IsCompleted)
            {
                publish.GetAwaiter().GetResult();
                pending.Sent = true;
            }
            else
            {
                _ = ObservePublishAsync(publish, slot, pending, pending.Generation);
            }
        }
        catch (Exception ex)
        {
            FailUnsent(slot, pending, ex);
        }

        return await new ValueTask<T>(pending, version).ConfigureAwait(false);
    }

    private async Task ObservePublishAsync(ValueTask publish, int slot, PendingRequest pending, int generation)
    {
        try
        {
            await publish.ConfigureAwait(false);
            if (pending.Generation == generation)
            {
                pending.Sent = true;
            }
        }
        catch (Exception ex)
        {
            FailUnsent(slot, pending, ex);
        }
    }

    private void OnLeaderElected(string stream)
    {
        // Requests sent to the old leader will never be answered. Those sent to the new one since its election are
        // failed too (it cannot be told which node took a request): as "unknown", which a resend resolves.
        var bucketPrefix = stream.StartsWith("KV_", StringComparison.Ordinal) ? "$KV." + stream[3..] + "." : null;
        var directSuffix = ".DIRECT.GET." + stream;
        var count = Volatile.Read(ref _nextSlot);
        for (var i = 0; i < count; i++)
        {
            if (Volatile.Read(ref Cell(i)) is { Sent: true } pending &&
                ((bucketPrefix is not null && pending.Subject.StartsWith(bucketPrefix, StringComparison.Ordinal)) || pending.Subject.EndsWith(directSuffix, StringComparison.Ordinal)) &&
                TryTake(i, pending))
            {
                Retire(i);
                pending.Fail(new KvLeaderChangedException(stream));
            }
        }
    }

    private ValueTask OnDisconnected(object? sender, NatsEventArgs e)
    {
        // The event arrives through NATS.Net's event loop, normally well under a millisecond after the socket closed.
        // A reconnect that is faster still may have sent a few requests on the new socket by now: they fail too, as
        // "unknown", which is what a caller of a request in flight across a reconnect must expect anyway.
        FailSent(new KvConnectionLostException(e.Message));
        return default;
    }

    private void FailUnsent(int slot, PendingRequest pending, Exception ex)
    {
        // Most likely never sent; retiring the subject costs nothing and rules out a late reply meeting a newer request.
        if (TryTake(slot, pending))
        {
            Retire(slot);
            pending.Fail(ex);
        }
    }

    /// <summary>Removes <paramref name="pending"/> from its slot if it is still there (the reply has not won).</summary>
    internal bool TryTake(int slot, PendingRequest pending) =>
        ReferenceEquals(Interlocked.CompareExchange(ref Cell(slot), null, pending), pending);

    /// <summary>Returns a slot whose request got its reply: its subject can be reused.</summary>
    internal void Release(int slot) => _free.Enqueue(slot);

    /// <summary>
    /// Retires the slot of a request that got no reply: its subject is reused only after ten minutes, far past any
    /// reply a server could still send.
    /// </summary>
    internal void Retire(int slot)
    {
        lock (_grow)
        {
            _retired.Enqueue((slot, Environment.TickCount64));
        }
    }

    private ref PendingRequest? Cell(int slot) => ref _inFlight[slot >> ChunkBits]![slot & (ChunkSize - 1)];

    protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer, ReadOnlySequence<byte> payloadBuffer)
    {
        if (subject.Length > _prefix.Length &&
            int.TryParse(subject.AsSpan(_prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var slot) &&
            slot < Volatile.Read(ref _nextSlot) &&
            Volatile.Read(ref Cell(slot)) is { } pending &&
            TryTake(slot, pending))
        {
            pending.OnReply(headersBuffer, payloadBuffer);
            Release(slot);
        }

        return default;
    }

    /// <inheritdoc />
    public override ValueTask DisposeAsync()
    {
        Connection.ConnectionDisconnected -= OnDisconnected;
        _sweeper.Dispose();
        return base.DisposeAsync();
    }

    protected override void TryComplete()
    {
        // Unsubscribed (the connection is being disposed): nothing will answer what is waiting.
        _closed = true;
        Connection.ConnectionDisconnected -= OnDisconnected;
        Advisories.LeaderElected -= OnLeaderElected;
        _sweeper.Dispose();
        FailAll(new ObjectDisposedException(nameof(INatsConnection), "The NATS connection was disposed while a request was waiting for its reply"));
    }

    private int RentSlot()
    {
        if (_free.TryDequeue(out var slot))
        {
            return slot;
        }

        lock (_grow)
        {
            if (_retired.TryPeek(out var old) && Environment.TickCount64 - old.RetiredAt > 600_000)
            {
                return _retired.Dequeue().Slot;
            }

            slot = _nextSlot;
            var chunk = slot >> ChunkBits;
            if (chunk == _inFlight.Length)
            {
                throw new InvalidOperationException("More than a million requests are waiting for replies on one connection");
            }

            if (_inFlight[chunk] is null)
            {
                var subjects = new string[ChunkSize];
                for (var i = 0; i < ChunkSize; i++)
                {
                    subjects[i] = _prefix + ((chunk << ChunkBits) + i).ToString(CultureInfo.InvariantCulture);
                }

                _subjects[chunk] = subjects;
                Volatile.Write(ref _inFlight[chunk], new PendingRequest?[ChunkSize]);
            }

            Volatile.Write(ref _nextSlot, slot + 1);
            return slot;
        }
    }

    private void Sweep()
    {
        var now = Environment.TickCount64;
        var count = Volatile.Read(ref _nextSlot);
        for (var i = 0; i < count; i++)
        {
            if (Volatile.Read(ref Cell(i)) is { } pending && pending.Deadline <= now && TryTake(i, pending))
            {
                // Retired, not released: the reply may still arrive and must not meet a newer request.
                Retire(i);
                pending.Fail(pending.Sent || Connection.ConnectionState == NatsConnectionState.Open
                    ? new KvTimeoutException(pending.Subject, pending.Timeout)
                    : new KvTimeoutException(pending.Subject, pending.Timeout, notConnected: true));
            }
        }
    }

    private void FailSent(Exception error)
    {
        var count = Volatile.Read(ref _nextSlot);
        for (var i = 0; i < count; i++)
        {
            if (Volatile.Read(ref Cell(i)) is { Sent: true } pending && TryTake(i, pending))
            {
                // The reply may still come on a later connection (a publish NATS.Net had buffered): never to a newer request.
                Retire(i);
                pending.Fail(error);
            }
        }
    }

    private void FailAll(Exception error)
    {
        var count = Volatile.Read(ref _nextSlot);
        for (var i = 0; i < count; i++)
        {
            if (Volatile.Read(ref Cell(i)) is { } pending && TryTake(i, pending))
            {
                pending.Fail(error);
            }
        }
    }

    /// <summary>A random subject token (96 bits, hex).</summary>
    internal static string NewToken()
    {
        Span<byte> bytes = stackalloc byte[12];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        return Convert.ToHexString(bytes);
    }
}

using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace CacheProvider.Nats.Internal;

/// <summary>
/// Outgoing commands. Callers append to a pending buffer under a short lock (no await per message); one
/// loop swaps the buffer out and writes it to the socket in a single call, so bursts of small publishes
/// coalesce into few writes. While disconnected the pending buffer keeps filling up to its bound and is
/// replayed after the reconnect handshake. PINGs are counted per buffer so that a lost socket fails
/// exactly the flushes whose PING went down with it.
/// </summary>
internal sealed class CommandWriter : IAsyncDisposable
{
    private readonly object _lock = new();
    private readonly int _maxPending;
    private readonly Action<int, Exception> _onWriteFailed;
    private readonly LoopSignal _signal = new();
    private readonly Queue<TaskCompletionSource?> _pongWaiters = new();
    private readonly Task _loop;
    private PooledBuffer _pending = new(64 * 1024);
    private PooledBuffer _sending = new(64 * 1024);
    private int _pendingPings;
    private int _sentPings;
    private bool _signaled;
    private Stream? _stream;
    private int _generation;
    private TaskCompletionSource? _drained;
    private Exception? _closedError;

    public CommandWriter(int maxPendingBytes, Action<int, Exception> onWriteFailed)
    {
        _maxPending = maxPendingBytes;
        _onWriteFailed = onWriteFailed;
        _loop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Bytes waiting to be written.</summary>
    public int PendingBytes
    {
        get
        {
            lock (_lock)
            {
                return _pending.Length;
            }
        }
    }

    /// <summary>Starts writing to a freshly handshaken socket.</summary>
    public void Attach(Stream stream, int generation)
    {
        lock (_lock)
        {
            _stream = stream;
            _generation = generation;
            SignalLocked();
        }
    }

    /// <summary>Stops writing to the socket of <paramref name="generation"/>; fails flushes whose PING was already sent.</summary>
    public void Detach(int generation, Exception reason)
    {
        TaskCompletionSource?[]? failed = null;
        lock (_lock)
        {
            if (_generation != generation || _stream is null)
            {
                return;
            }

            _stream = null;
            if (_sentPings > 0)
            {
                failed = new TaskCompletionSource?[_sentPings];
                for (var i = 0; i < failed.Length && _pongWaiters.Count > 0; i++)
                {
                    failed[i] = _pongWaiters.Dequeue();
                }

                _sentPings = 0;
            }
        }

        if (failed is not null)
        {
            foreach (var tcs in failed)
            {
                FailObserved(tcs, new NatsConnectionException("Connection lost before the server answered", reason));
            }
        }
    }

    /// <summary>Appends a PUB/HPUB. Returns false (writing nothing) when it does not fit: wait with <see cref="WaitForSpaceAsync"/>.</summary>
    public bool TryWritePublish(string subject, string? replyTo, NatsHeaders? headers, int headerLength, in ReadOnlySequence<byte> payload) =>
        TryWrite(subject, string.Empty, replyTo, -1, headers, headerLength, payload);

    /// <summary>
    /// Appends a request to <paramref name="subject"/> + <paramref name="subjectSuffix"/>: the reply subject is
    /// <paramref name="replyPrefix"/> followed by <paramref name="token"/>, formatted in place.
    /// </summary>
    public bool TryWriteRequest(string subject, string subjectSuffix, string replyPrefix, long token, NatsHeaders? headers, int headerLength, in ReadOnlySequence<byte> payload) =>
        TryWrite(subject, subjectSuffix, replyPrefix, token, headers, headerLength, payload);

    /// <summary>Upper bound of the bytes a PUB/HPUB takes in the buffer; what <see cref="WaitForSpaceAsync"/> waits for.</summary>
    public static int MeasurePublish(string subject, string? replyTo, int headerLength, long payloadLength, string subjectSuffix = "") =>
        5 + Encoding.UTF8.GetByteCount(subject) + Encoding.UTF8.GetByteCount(subjectSuffix) + 1 + (replyTo is null ? 0 : Encoding.UTF8.GetByteCount(replyTo)) + 20 + 1 + 22 + 2 + headerLength + (int)payloadLength + 2;

    private bool TryWrite(string subject, string subjectSuffix, string? replyTo, long replyToken, NatsHeaders? headers, int headerLength, in ReadOnlySequence<byte> payload)
    {
        var payloadLength = (int)payload.Length;
        var total = headerLength + payloadLength;
        var size = MeasurePublish(subject, replyTo, headerLength, payloadLength, subjectSuffix);
        lock (_lock)
        {
            ThrowIfClosed();
            if (!FitsLocked(size))
            {
                return false;
            }

            var span = _pending.GetSpan(size);
            int n;
            if (headers is null)
            {
                "PUB "u8.CopyTo(span);
                n = 4;
            }
            else
            {
                "HPUB "u8.CopyTo(span);
                n = 5;
            }

            n += Encoding.UTF8.GetBytes(subject, span[n..]);
            n += Encoding.UTF8.GetBytes(subjectSuffix, span[n..]);
            span[n++] = (byte)' ';
            if (replyTo is not null)
            {
                n += Encoding.UTF8.GetBytes(replyTo, span[n..]);
                if (replyToken >= 0)
                {
                    Utf8Formatter.TryFormat(replyToken, span[n..], out var tokenLength);
                    n += tokenLength;
                }

                span[n++] = (byte)' ';
            }

            if (headers is not null)
            {
                n += FormatInt(headerLength, span[n..]);
                span[n++] = (byte)' ';
            }

            n += FormatInt(total, span[n..]);
            span[n++] = (byte)'\r';
            span[n++] = (byte)'\n';
            if (headers is not null)
            {
                n += HeaderCodec.Write(headers, span[n..]);
            }

            payload.CopyTo(span[n..]);
            n += payloadLength;
            span[n++] = (byte)'\r';
            span[n++] = (byte)'\n';
            _pending.Advance(n);
            SignalLocked();
        }

        return true;
    }

    /// <summary>Appends a control command (SUB, UNSUB, PONG). These ignore the bound: they are tiny and must not wait.</summary>
    public void WriteControl(ReadOnlySpan<byte> command)
    {
        lock (_lock)
        {
            ThrowIfClosed();
            command.CopyTo(_pending.GetSpan(command.Length));
            _pending.Advance(command.Length);
            SignalLocked();
        }
    }

    /// <summary>Appends a PING whose PONG completes the returned task (null waiter: keepalive).</summary>
    public Task WritePing(bool keepalive)
    {
        var tcs = keepalive ? null : new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_lock)
        {
            ThrowIfClosed();
            "PING\r\n"u8.CopyTo(_pending.GetSpan(6));
            _pending.Advance(6);
            _pendingPings++;
            _pongWaiters.Enqueue(tcs);
            SignalLocked();
        }

        return tcs?.Task ?? Task.CompletedTask;
    }

    /// <summary>A PONG arrived: completes the oldest PING.</summary>
    public void OnPong()
    {
        TaskCompletionSource? tcs = null;
        lock (_lock)
        {
            if (_sentPings > 0 && _pongWaiters.Count > 0)
            {
                _sentPings--;
                tcs = _pongWaiters.Dequeue();
            }
        }

        tcs?.TrySetResult();
    }

    /// <summary>Completes when a command of <paramref name="size"/> bytes (see <see cref="MeasurePublish"/>) may fit.</summary>
    /// <remarks>
    /// Waiting for "below the bound" instead would return at once while a large message still does not fit, and
    /// a publisher retrying in a loop would spin on the CPU for as long as the connection is down.
    /// </remarks>
    public Task WaitForSpaceAsync(int size, CancellationToken cancellationToken)
    {
        Task task;
        lock (_lock)
        {
            ThrowIfClosed();
            if (FitsLocked(size))
            {
                return Task.CompletedTask;
            }

            _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            task = _drained.Task;
        }

        return task.WaitAsync(cancellationToken);
    }

    /// <summary>Fails everything still waiting and stops the loop.</summary>
    public async ValueTask CloseAsync(Exception reason)
    {
        TaskCompletionSource?[] waiters;
        TaskCompletionSource? drained;
        lock (_lock)
        {
            if (_closedError is not null)
            {
                return;
            }

            _closedError = reason;
            _stream = null;
            waiters = _pongWaiters.ToArray();
            _pongWaiters.Clear();
            drained = _drained;
            _drained = null;
            SignalLocked();
        }

        foreach (var w in waiters)
        {
            FailObserved(w, reason);
        }

        FailObserved(drained, reason);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The loop reports its own failures through _onWriteFailed.
        }
    }

    public ValueTask DisposeAsync() => CloseAsync(new ObjectDisposedException(nameof(NatsConnection)));

    private async Task WriteLoopAsync()
    {
        while (true)
        {
            await _signal.WaitAsync().ConfigureAwait(false);
            lock (_lock)
            {
                _signaled = false;
            }

            while (true)
            {
                Stream? stream;
                int generation;
                TaskCompletionSource? drained;
                lock (_lock)
                {
                    if (_closedError is not null)
                    {
                        _pending.Dispose();
                        _sending.Dispose();
                        return;
                    }

                    stream = _stream;
                    if (stream is null || _pending.Length == 0)
                    {
                        break;
                    }

                    (_pending, _sending) = (_sending, _pending);
                    _sentPings += _pendingPings;
                    _pendingPings = 0;
                    generation = _generation;
                    drained = _drained;
                    _drained = null;
                }

                drained?.TrySetResult();
                try
                {
                    await stream.WriteAsync(_sending.WrittenMemory).ConfigureAwait(false);
                    await stream.FlushAsync().ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException or NotSupportedException)
                {
                    // What was in flight is lost (at-most-once, as in every NATS client); the rest is replayed.
                    _onWriteFailed(generation, ex);
                }
                finally
                {
                    _sending.Reset();
                }
            }
        }
    }

    /// <summary>Faults a waiter's task and marks the fault observed.</summary>
    /// <remarks>
    /// Waiters may have given up already: FlushAsync or PublishAsync cancelled, or DisposeAsync's flush timed
    /// out. Nobody would then look at the fault, and the finalizer would report it as an unobserved task exception
    /// that applications log as an error. Reading <see cref="Task.Exception"/> marks it observed; a waiter that is
    /// still there gets the exception from its await as before.
    /// </remarks>
    private static void FailObserved(TaskCompletionSource? waiter, Exception error)
    {
        if (waiter is not null && waiter.TrySetException(error))
        {
            _ = waiter.Task.Exception;
        }
    }

    /// <summary>An empty buffer takes any one command, so a message larger than the bound cannot wait forever.</summary>
    private bool FitsLocked(int size) => _pending.Length == 0 || _pending.Length + size <= _maxPending;

    private void SignalLocked()
    {
        if (!_signaled)
        {
            _signaled = true;
            _signal.Signal();
        }
    }

    private void ThrowIfClosed()
    {
        if (_closedError is not null)
        {
            throw _closedError as NatsException ?? new NatsConnectionException("The connection is closed", _closedError);
        }
    }

    private static int FormatInt(int value, Span<byte> destination)
    {
        Utf8Formatter.TryFormat(value, destination, out var written);
        return written;
    }
}

using System.Buffers;
using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;
using NATS.Client.Core;

namespace CacheProvider.KeyValue.Internal;

/// <summary>A request waiting for its reply in a <see cref="RequestMux"/> slot.</summary>
internal abstract class PendingRequest
{
    /// <summary>The request subject (for error messages).</summary>
    public string Subject { get; protected set; } = string.Empty;

    /// <summary><see cref="Environment.TickCount64"/> after which the request times out.</summary>
    public long Deadline { get; protected set; }

    public TimeSpan Timeout { get; protected set; }

    /// <summary>NATS.Net took the request for its socket: a reply can come only on the connection it went out on.</summary>
    public volatile bool Sent;

    /// <summary>Counts the uses of this pooled instance, so a late publish completion cannot mark a later request sent.</summary>
    public int Generation { get; protected set; }

    /// <summary>Completes with the reply (on the read loop, while the buffers are valid).</summary>
    public abstract void OnReply(in ReadOnlySequence<byte>? headers, in ReadOnlySequence<byte> payload);

    public abstract void Fail(Exception error);
}

/// <summary>
/// Pooled, allocation-free completion of one request: an <see cref="IValueTaskSource{T}"/> whose parser turns the
/// reply into the result while the bytes are still in the receive buffer.
/// </summary>
internal sealed class PendingRequest<T, TParser> : PendingRequest, IValueTaskSource<T>
    where TParser : IReplyParser<T>
{
    private static readonly ConcurrentQueue<PendingRequest<T, TParser>> Pool = new();
    private static int _pooled;

    // Continuations never run on the read loop: a caller's code must not stall every other reply.
    private ManualResetValueTaskSourceCore<T> _core = new() { RunContinuationsAsynchronously = true };
    private TParser _parser = default!;
    private RequestMux? _mux;
    private int _slot;
    private CancellationTokenRegistration _registration;
    private CancellationToken _cancellationToken;

    public short Version => _core.Version;

    public static PendingRequest<T, TParser> Rent()
    {
        if (Pool.TryDequeue(out var p))
        {
            Interlocked.Decrement(ref _pooled);
            return p;
        }

        return new PendingRequest<T, TParser>();
    }

    public void Init(RequestMux mux, int slot, string subject, TParser parser, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _mux = mux;
        _slot = slot;
        Subject = subject;
        _parser = parser;
        Timeout = timeout;
        Deadline = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        Sent = false;
        Generation++;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Registers for cancellation once the request is in its slot (so a cancel can take it out).</summary>
    public void RegisterCancellation()
    {
        if (_cancellationToken.CanBeCanceled)
        {
            _registration = _cancellationToken.UnsafeRegister(static s => ((PendingRequest<T, TParser>)s!).Cancel(), this);
        }
    }

    public override void OnReply(in ReadOnlySequence<byte>? headers, in ReadOnlySequence<byte> payload)
    {
        _registration.Dispose();
        T result;
        try
        {
            var status = HeaderReader.StatusCode(headers);
            if (status == 503 && payload.IsEmpty)
            {
                _core.SetException(new NatsNoRespondersException());
                return;
            }

            using var block = new HeaderBlock(headers);
            result = _parser.Parse(status, block.Span, payload);
        }
        catch (Exception ex)
        {
            _core.SetException(ex);
            return;
        }

        _core.SetResult(result);
    }

    public override void Fail(Exception error)
    {
        _registration.Dispose();
        _core.SetException(error);
    }

    public T GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            Return();
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Cancel()
    {
        if (_mux is { } mux && mux.TryTake(_slot, this))
        {
            mux.Retire(_slot);
            _core.SetException(new OperationCanceledException(_cancellationToken));
        }
    }

    private void Return()
    {
        // A registration made after the reply won (a race with RegisterCancellation) must not outlive this request.
        _registration.Dispose();
        _core.Reset();
        _parser = default!;
        _mux = null;
        _registration = default;
        _cancellationToken = default;
        Subject = string.Empty;
        Sent = false;
        if (Interlocked.Increment(ref _pooled) <= 1024)
        {
            Pool.Enqueue(this);
        }
        else
        {
            Interlocked.Decrement(ref _pooled);
        }
    }
}

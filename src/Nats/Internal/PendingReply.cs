using System.Collections.Concurrent;
using System.Threading.Tasks.Sources;

namespace CacheProvider.Nats.Internal;

/// <summary>Turns a reply, as it sits in the receive buffer, into a result. Runs on the read loop.</summary>
internal interface IReplyParser<T>
{
    T Parse(in RawMessage reply);
}

/// <summary>A request waiting for its reply.</summary>
internal abstract class PendingReply
{
    public long Token { get; protected set; }

    private string _subjectPrefix = string.Empty;
    private string _subjectSuffix = string.Empty;
    private string? _subject = string.Empty;

    /// <summary>The request subject, concatenated only when something asks for it (errors), not per request.</summary>
    /// <remarks>Not cached: a pooled instance may be re-initialised while an error path reads it.</remarks>
    public string Subject => _subject ?? string.Concat(_subjectPrefix, _subjectSuffix);

    /// <summary><see cref="Environment.TickCount64"/> after which the request times out.</summary>
    public long Deadline { get; protected set; }

    public TimeSpan Timeout { get; protected set; }

    public abstract void OnReply(in RawMessage reply);

    public abstract void Fail(Exception error);

    protected void SetSubject(string prefix, string suffix)
    {
        _subjectPrefix = prefix;
        _subjectSuffix = suffix;
        _subject = suffix.Length == 0 ? prefix : null;
    }
}

/// <summary>
/// Pooled, allocation-free completion of one request: an <see cref="IValueTaskSource{T}"/> whose parser turns
/// the reply into the result while the bytes are still in the receive buffer (so a caller's buffer writer can
/// get the payload without an intermediate copy).
/// </summary>
internal sealed class PendingReply<T, TParser> : PendingReply, IValueTaskSource<T>
    where TParser : IReplyParser<T>
{
    private static readonly ConcurrentQueue<PendingReply<T, TParser>> Pool = new();
    private static int _pooled;
    private ManualResetValueTaskSourceCore<T> _core = new() { RunContinuationsAsynchronously = true };
    private TParser _parser = default!;
    private RequestMux? _mux;
    private CancellationTokenRegistration _registration;
    private CancellationToken _cancellationToken;

    public short Version => _core.Version;

    public static PendingReply<T, TParser> Rent()
    {
        if (Pool.TryDequeue(out var p))
        {
            Interlocked.Decrement(ref _pooled);
            return p;
        }

        return new PendingReply<T, TParser>();
    }

    public void Init(RequestMux mux, long token, string subjectPrefix, string subjectSuffix, TParser parser, TimeSpan timeout, CancellationToken cancellationToken)
    {
        _mux = mux;
        Token = token;
        SetSubject(subjectPrefix, subjectSuffix);
        _parser = parser;
        Timeout = timeout;
        Deadline = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        _cancellationToken = cancellationToken;
    }

    /// <summary>Registers for cancellation after the request is in the mux (so a cancel can find it).</summary>
    public void RegisterCancellation()
    {
        if (_cancellationToken.CanBeCanceled)
        {
            _registration = _cancellationToken.UnsafeRegister(static s => ((PendingReply<T, TParser>)s!).Cancel(), this);
        }
    }

    public override void OnReply(in RawMessage reply)
    {
        _registration.Dispose();
        T result;
        try
        {
            if (reply.Payload.IsEmpty && reply.StatusCode() == 503)
            {
                _core.SetException(new NatsNoRespondersException(Subject));
                return;
            }

            result = _parser.Parse(reply);
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
        if (_mux is not null && _mux.TryRemove(Token))
        {
            _core.SetException(new OperationCanceledException(_cancellationToken));
        }
    }

    private void Return()
    {
        _core.Reset();
        _parser = default!;
        _mux = null;
        _registration = default;
        _cancellationToken = default;
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

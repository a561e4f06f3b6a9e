using System.Buffers.Text;
using System.Collections.Concurrent;

namespace CacheProvider.Nats.Internal;

/// <summary>
/// Request/reply over one wildcard inbox subscription: each request gets a numeric token appended to the
/// inbox prefix, and replies are matched by token. Timeouts are swept by one timer for all requests, so a
/// request costs no timer of its own.
/// </summary>
internal sealed class RequestMux : SubscriptionBase, IDisposable
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromMilliseconds(20);
    private readonly ConcurrentDictionary<long, PendingReply> _pending = new();
    private readonly byte[] _prefixBytes;
    private readonly Timer _sweeper;
    private long _nextToken;

    public RequestMux(string inboxPrefix)
        : base(inboxPrefix + "." + Nuid.Next() + ".*", null, 0)
    {
        ReplyPrefix = Subject[..^1];
        _prefixBytes = System.Text.Encoding.UTF8.GetBytes(ReplyPrefix);
        _sweeper = new Timer(static s => ((RequestMux)s!).Sweep(), this, SweepInterval, SweepInterval);
    }

    /// <summary>The inbox prefix including the trailing dot; the token follows it.</summary>
    public string ReplyPrefix { get; }

    public int PendingCount => _pending.Count;

    public long NextToken() => Interlocked.Increment(ref _nextToken);

    public void Add(PendingReply reply) => _pending[reply.Token] = reply;

    public bool TryRemove(long token) => _pending.TryRemove(token, out _);

    public override void Deliver(in RawMessage message)
    {
        var subject = message.Subject;
        if (subject.Length <= _prefixBytes.Length || !subject.StartsWith(_prefixBytes))
        {
            return;
        }

        var tail = subject[_prefixBytes.Length..];
        if (Utf8Parser.TryParse(tail, out long token, out var used) && used == tail.Length &&
            _pending.TryRemove(token, out var reply))
        {
            reply.OnReply(message);
        }
    }

    public override void Complete(Exception? error)
    {
        // The mux lives as long as the connection; a closing connection fails what is left.
        if (error is not null)
        {
            FailAll(error);
        }
    }

    /// <summary>Fails requests to <paramref name="subject"/> (the server refused to let us publish there).</summary>
    public void FailSubject(string subject, Exception error)
    {
        foreach (var (token, reply) in _pending)
        {
            if (string.Equals(reply.Subject, subject, StringComparison.Ordinal) && _pending.TryRemove(token, out _))
            {
                reply.Fail(error);
            }
        }
    }

    public void FailAll(Exception error)
    {
        foreach (var (token, reply) in _pending)
        {
            if (_pending.TryRemove(token, out _))
            {
                reply.Fail(error);
            }
        }
    }

    public void Dispose() => _sweeper.Dispose();

    private void Sweep()
    {
        if (_pending.IsEmpty)
        {
            return;
        }

        var now = Environment.TickCount64;
        foreach (var (token, reply) in _pending)
        {
            if (reply.Deadline <= now && _pending.TryRemove(token, out _))
            {
                reply.Fail(new NatsTimeoutException(reply.Subject, reply.Timeout));
            }
        }
    }
}

using System.Runtime.CompilerServices;
using System.Threading.Channels;
using CacheProvider.Nats.Internal;

namespace CacheProvider.Nats;

/// <summary>
/// A subscription whose messages are read from a bounded channel. A reader slower than the stream loses
/// messages beyond <see cref="NatsOptions.SubscriptionCapacity"/> (counted in <see cref="Dropped"/>) rather
/// than stalling the connection for everyone else. Survives reconnects: the client resubscribes.
/// </summary>
public sealed class NatsSubscription : IAsyncDisposable
{
    private readonly NatsConnection _connection;
    private readonly Sink _sink;
    private long _dropped;

    internal NatsSubscription(NatsConnection connection, string subject, string? queueGroup, int maxMessages, int capacity)
    {
        _connection = connection;
        _sink = new Sink(this, subject, queueGroup, maxMessages, capacity);
    }

    /// <summary>The subject (may contain wildcards).</summary>
    public string Subject => _sink.Subject;

    /// <summary>Queue group, if any.</summary>
    public string? QueueGroup => _sink.QueueGroup;

    /// <summary>Messages dropped because the reader fell behind.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Received messages. Completes when the subscription ends; faults with <see cref="NatsPermissionException"/> when refused.</summary>
    public ChannelReader<NatsMsg> Messages => _sink.Channel.Reader;

    internal SubscriptionBase Core => _sink;

    /// <summary>Reads messages until the subscription ends or <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<NatsMsg> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var reader = _sink.Channel.Reader;
        while (await reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
        {
            while (reader.TryRead(out var msg))
            {
                yield return msg;
            }
        }
    }

    /// <summary>Stops the subscription; buffered messages stay readable.</summary>
    public ValueTask UnsubscribeAsync() => _connection.UnsubscribeAsync(_sink);

    /// <inheritdoc />
    public ValueTask DisposeAsync() => UnsubscribeAsync();

    private sealed class Sink : SubscriptionBase
    {
        private readonly NatsSubscription _owner;

        public Sink(NatsSubscription owner, string subject, string? queueGroup, int maxMessages, int capacity)
            : base(subject, queueGroup, maxMessages)
        {
            _owner = owner;
            Channel = System.Threading.Channels.Channel.CreateBounded<NatsMsg>(new BoundedChannelOptions(capacity)
            {
                SingleWriter = true,
                FullMode = BoundedChannelFullMode.Wait,
            });
        }

        private volatile bool _completed;

        public Channel<NatsMsg> Channel { get; }

        public override void Deliver(in RawMessage message)
        {
            // The read loop looks the subscription up before delivering; an unsubscribe can complete it in between.
            // TryWrite then fails as it would for a full channel, but the message belongs to nobody: not a slow consumer.
            if (_completed)
            {
                return;
            }

            if (!Channel.Writer.TryWrite(message.ToMsg()) && !_completed)
            {
                if (Interlocked.Increment(ref _owner._dropped) == 1)
                {
                    _owner._connection.ReportSlowConsumer(Subject);
                }
            }
        }

        public override void Complete(Exception? error)
        {
            // Set before completing the channel, so a TryWrite that failed because of the completion sees it.
            _completed = true;
            Channel.Writer.TryComplete(error);
        }
    }
}

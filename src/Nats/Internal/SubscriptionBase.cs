namespace CacheProvider.Nats.Internal;

/// <summary>Server-side subscription state shared by every kind of subscriber.</summary>
internal abstract class SubscriptionBase
{
    protected SubscriptionBase(string subject, string? queueGroup, int maxMessages)
    {
        Subject = subject;
        QueueGroup = queueGroup;
        MaxMessages = maxMessages;
    }

    public long Sid { get; set; }

    public string Subject { get; }

    public string? QueueGroup { get; }

    /// <summary>Auto-unsubscribe after this many messages; 0 = never.</summary>
    public int MaxMessages { get; }

    /// <summary>Messages delivered so far; touched only by the read loop.</summary>
    public int Delivered { get; set; }

    /// <summary>Runs on the read loop: must be quick and must not block.</summary>
    public abstract void Deliver(in RawMessage message);

    /// <summary>The subscription ended (unsubscribed, limit reached, connection closed, or refused).</summary>
    public abstract void Complete(Exception? error);
}

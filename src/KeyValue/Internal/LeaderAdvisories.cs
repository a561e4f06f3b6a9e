using System.Buffers;
using NATS.Client.Core;

namespace CacheProvider.KeyValue.Internal;

/// <summary>
/// The server's "stream leader elected" advisories (<c>$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.&lt;stream&gt;</c>), one
/// subscription per connection next to its <see cref="RequestMux"/>. When a replicated stream's leader dies, the
/// requests already sent to it get no reply and its consumers go silent, while this connection (to another node) stays
/// up: no disconnect tells us. The election advisory does, so requests in flight for that stream end at once and its
/// watches are recreated on the new leader, instead of waiting out a request timeout or three idle heartbeats.
/// </summary>
/// <remarks>An account not allowed to subscribe to advisories simply never hears one: everything then works as without it.</remarks>
internal sealed class LeaderAdvisories : NatsSubBase
{
    public const string Filter = "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.*";
    private const int StreamTokenStart = 41; // "$JS.EVENT.ADVISORY.STREAM.LEADER_ELECTED.".Length

    public LeaderAdvisories(INatsConnection connection)
        : base(connection, connection.SubscriptionManager, Filter, queueGroup: null, opts: null)
    {
    }

    /// <summary>Raised on NATS.Net's read loop with the stream's name: handlers must be quick and must not throw.</summary>
    public event Action<string>? LeaderElected;

    protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer, ReadOnlySequence<byte> payloadBuffer)
    {
        if (subject.Length > StreamTokenStart)
        {
            LeaderElected?.Invoke(subject[StreamTokenStart..]);
        }

        return default;
    }

    protected override void TryComplete()
    {
    }
}

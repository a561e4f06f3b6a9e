using System.Buffers;
using System.Threading.Channels;
using NATS.Client.Core;

namespace CacheProvider.KeyValue.Internal;

/// <summary>A message copied out of the receive buffer, headers kept as the raw block.</summary>
internal sealed class RawMsg
{
    public RawMsg(string subject, string? replyTo, byte[]? headers, byte[] payload, int status)
    {
        Subject = subject;
        ReplyTo = replyTo;
        Headers = headers;
        Payload = payload;
        Status = status;
    }

    public string Subject { get; }

    public string? ReplyTo { get; }

    /// <summary>The header block (<c>NATS/1.0…</c>), or null.</summary>
    public byte[]? Headers { get; }

    public byte[] Payload { get; }

    /// <summary>Status code of the header block; 0 for a plain message.</summary>
    public int Status { get; }

    public ReadOnlySpan<byte> HeaderSpan => Headers;

    /// <summary>The last value of a header, as a string; null when absent.</summary>
    public string? Header(ReadOnlySpan<byte> name)
    {
        if (Headers is null)
        {
            return null;
        }

        string? value = null;
        var reader = new HeaderReader(Headers);
        while (reader.MoveNext())
        {
            if (reader.Name.SequenceEqual(name))
            {
                value = System.Text.Encoding.UTF8.GetString(reader.Value);
            }
        }

        return value;
    }

    public string? Description
    {
        get
        {
            if (Headers is null)
            {
                return null;
            }

            var d = new HeaderReader(Headers).Description;
            return d.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(d);
        }
    }
}

/// <summary>
/// A subscription that keeps every message's raw header block (NATS.Net's typed subscriptions only offer a parsed
/// dictionary): JetStream deliveries whose reply subject carries the stream sequence, and streamed batch replies.
/// Messages queue unbounded; JetStream flow control (answered by the reader) bounds what a consumer can have in flight.
/// </summary>
internal sealed class RawInbox : NatsSubBase, IAsyncDisposable
{
    private readonly Channel<RawMsg> _channel = Channel.CreateUnbounded<RawMsg>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });

    private RawInbox(INatsConnection connection, string subject)
        : base(connection, connection.SubscriptionManager, subject, queueGroup: null, opts: null)
    {
    }

    public ChannelReader<RawMsg> Messages => _channel.Reader;

    /// <summary>Subscribes a fresh inbox.</summary>
    public static async ValueTask<RawInbox> SubscribeAsync(INatsConnection connection, CancellationToken cancellationToken)
    {
        // Not under NATS.Net's own inbox prefix: there its shared inbox routes by the message's subject, and a JetStream
        // delivery carries the stream subject, not the inbox it was sent to, so it would be dropped.
        var inbox = new RawInbox(connection, $"{connection.Opts.InboxPrefix}.{RequestMux.NewToken()}");
        await connection.AddSubAsync(inbox, cancellationToken).ConfigureAwait(false);
        return inbox;
    }

    protected override ValueTask ReceiveInternalAsync(string subject, string? replyTo, ReadOnlySequence<byte>? headersBuffer, ReadOnlySequence<byte> payloadBuffer)
    {
        var headers = headersBuffer is { IsEmpty: false } h ? h.ToArray() : null;
        var status = headers is null ? 0 : HeaderReader.StatusCode(headersBuffer);
        _channel.Writer.TryWrite(new RawMsg(subject, replyTo, headers, payloadBuffer.IsEmpty ? [] : payloadBuffer.ToArray(), status));
        return default;
    }

    protected override void TryComplete() => _channel.Writer.TryComplete();
}

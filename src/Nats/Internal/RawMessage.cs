using System.Buffers;
using System.Text;

namespace CacheProvider.Nats.Internal;

/// <summary>A message as it sits in the receive buffer; valid only during delivery.</summary>
internal readonly ref struct RawMessage
{
    public RawMessage(ReadOnlySpan<byte> subject, ReadOnlySpan<byte> replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload)
    {
        Subject = subject;
        ReplyTo = replyTo;
        Headers = headers;
        Payload = payload;
    }

    public ReadOnlySpan<byte> Subject { get; }
    public ReadOnlySpan<byte> ReplyTo { get; }
    public ReadOnlySequence<byte> Headers { get; }
    public ReadOnlySequence<byte> Payload { get; }

    /// <summary>Copies everything out into an owned message.</summary>
    public NatsMsg ToMsg() => new(
        Encoding.UTF8.GetString(Subject),
        ReplyTo.IsEmpty ? null : Encoding.UTF8.GetString(ReplyTo),
        Headers.IsEmpty ? null : HeaderCodec.Parse(Headers),
        Payload.IsEmpty ? ReadOnlyMemory<byte>.Empty : Payload.ToArray());

    /// <summary>The status code of the header block, 0 when there is none; does not allocate for contiguous headers.</summary>
    public int StatusCode()
    {
        if (Headers.IsEmpty)
        {
            return 0;
        }

        if (Headers.IsSingleSegment)
        {
            return new HeaderReader(Headers.FirstSpan).Code;
        }

        Span<byte> head = stackalloc byte[(int)Math.Min(Headers.Length, 64)];
        Headers.Slice(0, head.Length).CopyTo(head);
        var lf = head.IndexOf((byte)'\n');
        return lf < 0 ? 0 : new HeaderReader(head[..(lf + 1)]).Code;
    }
}

using System.Buffers;

namespace CacheProvider.Nats.Internal;

/// <summary>Receives the operations the parser finds. Spans are valid only during the call.</summary>
internal interface IProtocolHandler
{
    void OnInfo(ReadOnlySpan<byte> json);

    void OnMsg(ReadOnlySpan<byte> subject, long sid, ReadOnlySpan<byte> replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload);

    void OnPing();

    void OnPong();

    void OnOk();

    void OnError(ReadOnlySpan<byte> message);
}

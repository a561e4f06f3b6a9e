using System.Buffers;
using CacheProvider.Nats.Internal;

namespace CacheProvider.Nats.Tests.Fuzz;

/// <summary>
/// Copies out every operation the parser reports and runs the same follow-up parsing the client does on it
/// (HeaderCodec.Parse, the status-code fast path, HeaderReader lookups, SocketConnector.ParseInfo). Those may
/// reject a block only with NatsProtocolException; any other exception escapes and fails the run.
/// </summary>
internal sealed class RecordingHandler : IProtocolHandler
{
    public List<FuzzEvent> Events { get; } = [];

    public void OnInfo(ReadOnlySpan<byte> json)
    {
        IReadOnlyList<string>? urls = null;
        var rejected = false;
        try
        {
            urls = SocketConnector.ParseInfo(json).ConnectUrls;
        }
        catch (NatsProtocolException)
        {
            rejected = true;
        }

        Events.Add(new FuzzEvent(FuzzOp.Info) { Text = json.ToArray(), ConnectUrls = urls, Rejected = rejected });
    }

    public void OnMsg(ReadOnlySpan<byte> subject, long sid, ReadOnlySpan<byte> replyTo, ReadOnlySequence<byte> headers, ReadOnlySequence<byte> payload)
    {
        HeaderSpec? spec = null;
        var rejected = false;
        if (!headers.IsEmpty)
        {
            try
            {
                spec = HeaderSpec.From(HeaderCodec.Parse(headers));
                var contiguous = headers.ToArray();
                _ = HeaderReader.TryFindLast(contiguous, "Nats-Sequence"u8, out _);
            }
            catch (NatsProtocolException)
            {
                rejected = true;
            }

            try
            {
                _ = new RawMessage(subject, replyTo, headers, payload).StatusCode();
            }
            catch (NatsProtocolException)
            {
                rejected = true;
            }
        }

        Events.Add(new FuzzEvent(FuzzOp.Msg)
        {
            Subject = subject.ToArray(),
            Sid = sid,
            Reply = replyTo.ToArray(),
            Headers = headers.ToArray(),
            Payload = payload.ToArray(),
            HeaderSpec = spec,
            Rejected = rejected,
        });
    }

    public void OnPing() => Events.Add(new FuzzEvent(FuzzOp.Ping));

    public void OnPong() => Events.Add(new FuzzEvent(FuzzOp.Pong));

    public void OnOk() => Events.Add(new FuzzEvent(FuzzOp.Ok));

    public void OnError(ReadOnlySpan<byte> message) => Events.Add(new FuzzEvent(FuzzOp.Err) { Text = message.ToArray() });
}

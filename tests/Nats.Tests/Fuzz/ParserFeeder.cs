using System.Buffers;
using CacheProvider.Nats.Internal;

namespace CacheProvider.Nats.Tests.Fuzz;

/// <summary>How one stream ended.</summary>
internal enum FeedOutcome
{
    /// <summary>Everything was delivered; the parser consumed all of it.</summary>
    Drained,

    /// <summary>Everything was delivered; the parser is waiting for more (a truncated or over-long frame).</summary>
    Waiting,

    /// <summary>The parser threw NatsProtocolException: the client would drop the socket here.</summary>
    ProtocolError,
}

/// <summary>
/// Feeds a byte stream to <see cref="ProtocolParser"/> the way the read loop does with its PipeReader: bytes
/// arrive in random-sized reads, each read becomes its own segment (sometimes several, sometimes with empty
/// ones) appended to the unconsumed rest, the parser runs until it returns false, and whatever it left is kept
/// for the next read. Checks the per-call contract on the way.
/// </summary>
internal sealed class ParserFeeder(Random rng)
{
    public int Reads { get; private set; }

    public FeedOutcome Feed(byte[] stream, ProtocolParser parser, IProtocolHandler handler)
    {
        var maxChunk = ChooseMaxChunk(stream.Length);
        Segment? first = null;
        Segment? last = null;
        var firstIndex = 0;
        var delivered = 0;
        var calls = 0L;
        Reads = 0;
        while (true)
        {
            if (delivered < stream.Length)
            {
                var n = Math.Min(rng.Next(1, maxChunk + 1), stream.Length - delivered);
                foreach (var piece in Split(stream.AsMemory(delivered, n)))
                {
                    var seg = new Segment(piece);
                    if (last is null)
                    {
                        first = last = seg;
                        firstIndex = 0;
                    }
                    else
                    {
                        last.Append(seg);
                        last = seg;
                    }
                }

                delivered += n;
                Reads++;
            }

            var buffer = first is null ? ReadOnlySequence<byte>.Empty : new ReadOnlySequence<byte>(first, firstIndex, last!, last!.Memory.Length);
            var end = buffer.End;
            while (true)
            {
                // Each successful call consumes at least one byte, so this bounds a correct parser; more calls mean it loops.
                if (++calls > stream.Length + Reads + 2)
                {
                    throw new FuzzFailure($"parser made {calls} calls on {stream.Length} bytes: it returns true without consuming");
                }

                var before = buffer;
                bool parsed;
                try
                {
                    parsed = parser.TryParse(ref buffer, handler);
                }
                catch (NatsProtocolException)
                {
                    return FeedOutcome.ProtocolError;
                }

                if (parsed)
                {
                    if (buffer.Length >= before.Length || !buffer.End.Equals(end))
                    {
                        throw new FuzzFailure($"TryParse returned true but left {buffer.Length} of {before.Length} bytes (must consume a prefix)");
                    }

                    continue;
                }

                if (buffer.Length != before.Length || !buffer.Start.Equals(before.Start))
                {
                    throw new FuzzFailure("TryParse returned false but moved the buffer");
                }

                break;
            }

            // Keep the unconsumed rest, as PipeReader.AdvanceTo(buffer.Start, buffer.End) does.
            if (buffer.IsEmpty)
            {
                first = last = null;
            }
            else
            {
                first = (Segment)buffer.Start.GetObject()!;
                firstIndex = buffer.Start.GetInteger();
            }

            if (delivered == stream.Length)
            {
                return buffer.IsEmpty ? FeedOutcome.Drained : FeedOutcome.Waiting;
            }
        }
    }

    /// <summary>Small reads for small streams; big streams get bigger reads so one stream stays within ~256 reads.</summary>
    private int ChooseMaxChunk(int length)
    {
        var chunk = rng.Next(5) switch
        {
            0 => 4,
            1 => 64,
            2 => 1024,
            3 => 16384,
            _ => Math.Max(1, length),
        };
        return Math.Max(chunk, length / 256);
    }

    /// <summary>One read usually lands in one segment; sometimes in several (with empty ones), as pooled buffers do.</summary>
    private IEnumerable<ReadOnlyMemory<byte>> Split(ReadOnlyMemory<byte> read)
    {
        if (rng.Next(4) != 0 || read.Length < 2)
        {
            yield return read;
            yield break;
        }

        while (read.Length > 0)
        {
            var n = rng.Next(8) == 0 ? 0 : rng.Next(1, read.Length + 1);
            yield return read[..n];
            read = read[n..];
        }
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public void Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}

/// <summary>A broken invariant (as opposed to an unexpected exception type, which propagates as itself).</summary>
internal sealed class FuzzFailure(string message) : Exception(message);

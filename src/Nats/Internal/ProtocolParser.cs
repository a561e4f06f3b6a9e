using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace CacheProvider.Nats.Internal;

/// <summary>
/// Parses server-to-client protocol (INFO, MSG, HMSG, PING, PONG, +OK, -ERR) from a byte sequence without
/// copying payloads. Anything malformed raises <see cref="NatsProtocolException"/>, never another exception,
/// and bounds on line and message sizes keep garbage from making it wait forever on a live stream.
/// </summary>
internal sealed class ProtocolParser
{
    /// <summary>INFO carries connect_urls of a whole cluster; 1 MiB is far above any real one.</summary>
    public const int MaxControlLine = 1024 * 1024;

    /// <summary>The server's own ceiling for max_payload (64 MB); a larger INFO value is garbage too.</summary>
    public const long MaxServerPayload = 64L * 1024 * 1024;

    /// <summary>
    /// What the server may add to a message that was within max_payload when published: JetStream's
    /// Nats-Stream/-Subject/-Sequence/-Time-Stamp headers on direct gets, source and republish headers.
    /// </summary>
    public const long HeaderSlack = 64 * 1024;

    private byte[] _scratch = new byte[256];

    /// <summary>
    /// Largest message size accepted in a MSG/HMSG line. Anything larger is a protocol error at once: waiting for
    /// bytes a server could never send would leave the connection dead until the stale-ping check noticed.
    /// </summary>
    public long MaxMessageSize { get; set; } = MaxServerPayload + HeaderSlack;

    /// <summary>The largest message a server announcing <paramref name="maxPayload"/> could send us.</summary>
    public static long MessageLimit(long maxPayload) =>
        (maxPayload is > 0 and <= MaxServerPayload ? maxPayload : MaxServerPayload) + HeaderSlack;

    /// <summary>Consumes one complete operation from <paramref name="buffer"/>.</summary>
    /// <returns>False when the buffer does not yet hold a complete operation (nothing consumed).</returns>
    public bool TryParse(ref ReadOnlySequence<byte> buffer, IProtocolHandler handler)
    {
        var lf = buffer.PositionOf((byte)'\n');
        if (lf is null)
        {
            if (buffer.Length > MaxControlLine)
            {
                throw new NatsProtocolException("Control line too long");
            }

            return false;
        }

        var lineSeq = buffer.Slice(0, lf.Value);
        var lineLength = lineSeq.Length;
        if (lineLength > MaxControlLine)
        {
            throw new NatsProtocolException("Control line too long");
        }

        var line = Contiguous(lineSeq);
        if (line.Length > 0 && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        var afterLine = buffer.GetPosition(1, lf.Value);
        if (line.Length < 3)
        {
            throw Bad(line);
        }

        switch (Upper(line[0]))
        {
            case (byte)'M' when StartsWith(line, "MSG"u8) && IsSpace(line, 3):
                return ParseMsg(ref buffer, afterLine, line[4..], false, handler);
            case (byte)'H' when StartsWith(line, "HMSG"u8) && IsSpace(line, 4):
                return ParseMsg(ref buffer, afterLine, line[5..], true, handler);
            case (byte)'P' when line.Length == 4 && StartsWith(line, "PING"u8):
                buffer = buffer.Slice(afterLine);
                handler.OnPing();
                return true;
            case (byte)'P' when line.Length == 4 && StartsWith(line, "PONG"u8):
                buffer = buffer.Slice(afterLine);
                handler.OnPong();
                return true;
            case (byte)'+' when line.Length == 3 && StartsWith(line, "+OK"u8):
                buffer = buffer.Slice(afterLine);
                handler.OnOk();
                return true;
            case (byte)'-' when StartsWith(line, "-ERR"u8):
                {
                    var msg = line[4..].Trim(" \t'"u8);
                    buffer = buffer.Slice(afterLine);
                    handler.OnError(msg);
                    return true;
                }

            case (byte)'I' when StartsWith(line, "INFO"u8) && IsSpace(line, 4):
                {
                    var json = line[5..].Trim(" \t"u8);
                    buffer = buffer.Slice(afterLine);
                    handler.OnInfo(json);
                    return true;
                }

            default:
                throw Bad(line);
        }
    }

    private bool ParseMsg(ref ReadOnlySequence<byte> buffer, SequencePosition afterLine, ReadOnlySpan<byte> args, bool withHeaders, IProtocolHandler handler)
    {
        // MSG <subject> <sid> [reply] <size> / HMSG <subject> <sid> [reply] <hdr size> <total size>
        Span<Range> parts = stackalloc Range[6];
        var count = Split(args, parts);
        var min = withHeaders ? 4 : 3;
        if (count < min || count > min + 1)
        {
            throw new NatsProtocolException($"{(withHeaders ? "HMSG" : "MSG")} with {count} arguments");
        }

        var subject = args[parts[0]];
        var sid = ParseNumber(args[parts[1]]);
        var hasReply = count == min + 1;
        var replyTo = hasReply ? args[parts[2]] : default;
        long headerSize = 0;
        long total;
        if (withHeaders)
        {
            headerSize = ParseNumber(args[parts[count - 2]]);
            total = ParseNumber(args[parts[count - 1]]);
            if (headerSize > total)
            {
                throw new NatsProtocolException("HMSG header size exceeds total size");
            }
        }
        else
        {
            total = ParseNumber(args[parts[count - 1]]);
        }

        if (total > MaxMessageSize)
        {
            throw new NatsProtocolException($"Message of {total} bytes exceeds what the server can send ({MaxMessageSize} bytes)");
        }

        var rest = buffer.Slice(afterLine);
        if (rest.Length < total + 2)
        {
            return false;
        }

        var body = rest.Slice(0, total);
        var trailer = rest.Slice(total, 2);
        Span<byte> crlf = stackalloc byte[2];
        trailer.CopyTo(crlf);
        if (crlf[0] != (byte)'\r' || crlf[1] != (byte)'\n')
        {
            throw new NatsProtocolException("Message payload is not followed by CRLF");
        }

        var headers = body.Slice(0, headerSize);
        var payload = body.Slice(headerSize);
        buffer = rest.Slice(total + 2);

        // Subject and reply point into _scratch or the buffer; both stay valid through the callback.
        handler.OnMsg(subject, sid, replyTo, headers, payload);
        return true;
    }

    private ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> seq)
    {
        if (seq.IsSingleSegment)
        {
            return seq.FirstSpan;
        }

        var length = (int)seq.Length;
        if (_scratch.Length < length)
        {
            _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
        }

        seq.CopyTo(_scratch);
        return _scratch.AsSpan(0, length);
    }

    private static int Split(ReadOnlySpan<byte> args, Span<Range> parts)
    {
        var count = 0;
        var i = 0;
        while (i < args.Length)
        {
            while (i < args.Length && (args[i] == (byte)' ' || args[i] == (byte)'\t'))
            {
                i++;
            }

            if (i >= args.Length)
            {
                break;
            }

            var start = i;
            while (i < args.Length && args[i] != (byte)' ' && args[i] != (byte)'\t')
            {
                i++;
            }

            if (count == parts.Length)
            {
                return count + 1;
            }

            parts[count++] = new Range(start, i);
        }

        return count;
    }

    private static long ParseNumber(ReadOnlySpan<byte> text)
    {
        // Digits only: Utf8Parser alone also takes "+5" and "-0", which no server sends, so such a line is corrupt.
        if (text.Length == 0 || text.Length > 18 || text.ContainsAnyExceptInRange((byte)'0', (byte)'9') ||
            !Utf8Parser.TryParse(text, out long value, out var consumed) || consumed != text.Length)
        {
            throw new NatsProtocolException("Invalid number in protocol line");
        }

        return value;
    }

    private static bool StartsWith(ReadOnlySpan<byte> line, ReadOnlySpan<byte> op)
    {
        if (line.Length < op.Length)
        {
            return false;
        }

        for (var i = 0; i < op.Length; i++)
        {
            if (Upper(line[i]) != op[i])
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsSpace(ReadOnlySpan<byte> line, int index) =>
        line.Length > index && (line[index] == (byte)' ' || line[index] == (byte)'\t');

    private static byte Upper(byte b) => b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b;

    private static NatsProtocolException Bad(ReadOnlySpan<byte> line)
    {
        var shown = line.Length > 32 ? line[..32] : line;
        return new NatsProtocolException($"Unknown protocol operation '{Encoding.ASCII.GetString(shown)}'");
    }
}

using System.Buffers;
using System.Buffers.Text;
using NATS.Client.Core;

namespace CacheProvider.KeyValue.Internal;

/// <summary>
/// Walks a contiguous <c>NATS/1.0</c> header block without allocating: status line first, then name/value pairs.
/// NATS.Net offers only its dictionary-building parser; hot paths need three or four headers and no dictionary.
/// </summary>
internal ref struct HeaderReader
{
    private ReadOnlySpan<byte> _rest;

    public HeaderReader(ReadOnlySpan<byte> block)
    {
        var lf = block.IndexOf((byte)'\n');
        if (lf < 0 || !block.StartsWith("NATS/"u8))
        {
            throw new NatsException("Header block does not start with a NATS/1.0 line");
        }

        var status = TrimCr(block[..lf]);
        _rest = block[(lf + 1)..];
        Code = 0;
        Description = default;
        Name = default;
        Value = default;
        var sp = status.IndexOf((byte)' ');
        if (sp > 0)
        {
            var after = status[(sp + 1)..].TrimStart((byte)' ');
            var sp2 = after.IndexOf((byte)' ');
            var codeText = sp2 < 0 ? after : after[..sp2];
            if (codeText.Length > 0 && !codeText.ContainsAnyExceptInRange((byte)'0', (byte)'9') &&
                Utf8Parser.TryParse(codeText, out int code, out var used) && used == codeText.Length)
            {
                Code = code;
                Description = sp2 < 0 ? default : after[(sp2 + 1)..].Trim((byte)' ');
            }
        }
    }

    public int Code { get; }

    public ReadOnlySpan<byte> Description { get; }

    public ReadOnlySpan<byte> Name { get; private set; }

    public ReadOnlySpan<byte> Value { get; private set; }

    public bool MoveNext()
    {
        while (_rest.Length > 0)
        {
            var lf = _rest.IndexOf((byte)'\n');
            var line = lf < 0 ? _rest : _rest[..lf];
            _rest = lf < 0 ? default : _rest[(lf + 1)..];
            line = TrimCr(line);
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue; // blank line or a line without a name: not a header
            }

            Name = line[..colon].Trim((byte)' ');
            Value = line[(colon + 1)..].Trim((byte)' ');
            return true;
        }

        return false;
    }

    /// <summary>The status code of a header block (0 when there is none), reading only its first line.</summary>
    public static int StatusCode(in ReadOnlySequence<byte>? headers)
    {
        if (headers is not { Length: >= 8 } block)
        {
            return 0;
        }

        if (block.IsSingleSegment)
        {
            var span = block.FirstSpan;
            var lf = span.IndexOf((byte)'\n');
            return lf < 0 ? 0 : new HeaderReader(span[..(lf + 1)]).Code;
        }

        Span<byte> head = stackalloc byte[(int)Math.Min(block.Length, 64)];
        block.Slice(0, head.Length).CopyTo(head);
        var end = head.IndexOf((byte)'\n');
        return end < 0 ? 0 : new HeaderReader(head[..(end + 1)]).Code;
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
}

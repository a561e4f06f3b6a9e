using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace CacheProvider.Nats.Internal;

/// <summary>Reads and writes the <c>NATS/1.0</c> header block.</summary>
internal static class HeaderCodec
{
    private static ReadOnlySpan<byte> Version => "NATS/1.0"u8;

    /// <summary>Bytes <paramref name="headers"/> take on the wire (including the final blank line).</summary>
    public static int GetLength(NatsHeaders headers)
    {
        var length = Version.Length + 2;
        foreach (var (name, value) in headers.Items)
        {
            length += Encoding.UTF8.GetByteCount(name) + 2 + Encoding.UTF8.GetByteCount(value) + 2;
        }

        return length + 2;
    }

    public static int Write(NatsHeaders headers, Span<byte> destination)
    {
        Version.CopyTo(destination);
        var n = Version.Length;
        destination[n++] = (byte)'\r';
        destination[n++] = (byte)'\n';
        foreach (var (name, value) in headers.Items)
        {
            n += Encoding.UTF8.GetBytes(name, destination[n..]);
            destination[n++] = (byte)':';
            destination[n++] = (byte)' ';
            n += Encoding.UTF8.GetBytes(value, destination[n..]);
            destination[n++] = (byte)'\r';
            destination[n++] = (byte)'\n';
        }

        destination[n++] = (byte)'\r';
        destination[n++] = (byte)'\n';
        return n;
    }

    /// <summary>Materializes headers. Malformed lines raise <see cref="NatsProtocolException"/>.</summary>
    public static NatsHeaders Parse(in ReadOnlySequence<byte> block)
    {
        byte[]? rented = null;
        try
        {
            ReadOnlySpan<byte> span;
            if (block.IsSingleSegment)
            {
                span = block.FirstSpan;
            }
            else
            {
                rented = ArrayPool<byte>.Shared.Rent((int)block.Length);
                block.CopyTo(rented);
                span = rented.AsSpan(0, (int)block.Length);
            }

            return Parse(span);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    public static NatsHeaders Parse(ReadOnlySpan<byte> block)
    {
        var reader = new HeaderReader(block);
        var items = new List<KeyValuePair<string, string>>(4);
        while (reader.MoveNext())
        {
            items.Add(new KeyValuePair<string, string>(Encoding.UTF8.GetString(reader.Name), Encoding.UTF8.GetString(reader.Value)));
        }

        return new NatsHeaders(reader.Code, reader.Description.IsEmpty ? null : Encoding.UTF8.GetString(reader.Description), items);
    }
}

/// <summary>
/// Walks a contiguous header block without allocating: status line first, then name/value pairs.
/// Used on hot paths that need one or two headers (JetStream sequence, TTL) and not a dictionary.
/// </summary>
internal ref struct HeaderReader
{
    private ReadOnlySpan<byte> _rest;

    public HeaderReader(ReadOnlySpan<byte> block)
    {
        var lf = block.IndexOf((byte)'\n');
        if (lf < 0 || !block.StartsWith("NATS/"u8))
        {
            throw new NatsProtocolException("Header block does not start with a NATS/1.0 line");
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
            if (codeText.Length > 0)
            {
                // Digits only: Utf8Parser alone would turn "-5" or "+404" into a status code.
                if (codeText.ContainsAnyExceptInRange((byte)'0', (byte)'9') ||
                    !Utf8Parser.TryParse(codeText, out int code, out var used) || used != codeText.Length)
                {
                    throw new NatsProtocolException("Invalid status code in header block");
                }

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
            if (line.IsEmpty)
            {
                continue;
            }

            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                throw new NatsProtocolException("Header line without a name");
            }

            Name = line[..colon].Trim((byte)' ');
            Value = line[(colon + 1)..].Trim((byte)' ');
            return true;
        }

        return false;
    }

    /// <summary>Finds the last value of <paramref name="name"/> (server-appended headers come last).</summary>
    public static bool TryFindLast(ReadOnlySpan<byte> block, ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var reader = new HeaderReader(block);
        var found = false;
        value = default;
        while (reader.MoveNext())
        {
            if (reader.Name.SequenceEqual(name))
            {
                value = reader.Value;
                found = true;
            }
        }

        return found;
    }

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) =>
        line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;
}

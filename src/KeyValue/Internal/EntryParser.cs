using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Microsoft.Extensions.Primitives;
using NATS.Client.Core;

namespace CacheProvider.KeyValue.Internal;

/// <summary>
/// Reads the KV meaning of a stored message's headers in one pass: operation, marker reason, TTL, and, for direct-get
/// replies, the stream, sequence and timestamp the server appends. Markers carry no <c>KV-Operation</c>: their reason
/// decides.
/// </summary>
internal ref struct EntryParser
{
    public ReadOnlySpan<byte> Stream;
    public ulong Sequence;
    public long CreatedTicks;
    public KvOperation Operation;
    public KvMarkerReason Marker;
    public long TtlTicks;
    public int MsgSize;

    /// <summary>Scans a raw entry's header block, with its revision and creation time.</summary>
    public static EntryParser Scan(in KvRawEntry entry)
    {
        var p = Scan(entry.HeaderBlock);
        p.Sequence = entry.Revision;
        p.CreatedTicks = entry.Created.UtcTicks;
        return p;
    }

    /// <summary>Scans <paramref name="block"/> (may be empty).</summary>
    public static EntryParser Scan(ReadOnlySpan<byte> block)
    {
        var p = new EntryParser { MsgSize = -1 };
        if (block.IsEmpty)
        {
            return p;
        }

        ReadOnlySpan<byte> op = default, reason = default;
        var reader = new HeaderReader(block);
        while (reader.MoveNext())
        {
            var name = reader.Name;
            if (name.Length < 6 || (name[0] != (byte)'N' && name[0] != (byte)'K'))
            {
                continue; // neither Nats-* nor KV-*: an application header
            }

            if (name.SequenceEqual("KV-Operation"u8))
            {
                op = reader.Value;
            }
            else if (name.SequenceEqual("Nats-Marker-Reason"u8))
            {
                reason = reader.Value;
            }
            else if (name.SequenceEqual("Nats-TTL"u8))
            {
                p.TtlTicks = TtlFormat.TryParse(reader.Value, out var ttl) ? (ttl == Timeout.InfiniteTimeSpan ? -1 : Math.Max(ttl.Ticks, 1)) : 0;
            }
            else if (name.SequenceEqual("Nats-Stream"u8))
            {
                p.Stream = reader.Value;
            }
            else if (name.SequenceEqual("Nats-Sequence"u8))
            {
                _ = Utf8Parser.TryParse(reader.Value, out p.Sequence, out _);
            }
            else if (name.SequenceEqual("Nats-Time-Stamp"u8))
            {
                _ = Rfc3339.TryParseTicks(reader.Value, out p.CreatedTicks);
            }
            else if (name.SequenceEqual("Nats-Msg-Size"u8))
            {
                _ = Utf8Parser.TryParse(reader.Value, out p.MsgSize, out _);
            }
        }

        p.Marker = reason.IsEmpty ? KvMarkerReason.None
            : reason.SequenceEqual("Purge"u8) ? KvMarkerReason.Purged
            : reason.SequenceEqual("Remove"u8) ? KvMarkerReason.Removed
            : KvMarkerReason.Expired; // "MaxAge", and any reason a later server adds: the key went away by a limit
        p.Operation = p.Marker switch
        {
            KvMarkerReason.None => op.SequenceEqual("DEL"u8) ? KvOperation.Delete : op.SequenceEqual("PURGE"u8) ? KvOperation.Purge : KvOperation.Put,
            KvMarkerReason.Removed => KvOperation.Delete,
            _ => KvOperation.Purge,
        };
        return p;
    }

    public readonly KvRawEntry ToRaw(string key, ReadOnlySpan<byte> block, in ReadOnlySequence<byte> payload) =>
        new(key, block, payload, MsgSize >= 0 ? MsgSize : (int)payload.Length, Sequence, CreatedTicks, Operation, Marker, TtlTicks);

    /// <summary>Materialises an entry around an owned <paramref name="value"/> (empty when the caller keeps no value).</summary>
    public readonly KvEntry ToEntry(string bucket, string key, ReadOnlySpan<byte> block, ReadOnlyMemory<byte> value, int payloadLength, ulong delta) => new()
    {
        Bucket = bucket,
        Key = key,
        Value = value,
        ValueLength = MsgSize >= 0 ? MsgSize : payloadLength,
        Revision = Sequence,
        Created = new DateTimeOffset(CreatedTicks, TimeSpan.Zero),
        Delta = delta,
        Operation = Operation,
        MarkerReason = Marker,
        Ttl = TtlTicks switch { 0 => null, < 0 => Timeout.InfiniteTimeSpan, _ => TimeSpan.FromTicks(TtlTicks) },
        HeaderBlock = block.IsEmpty ? null : block.ToArray(),
    };

    /// <summary>All headers of a block as NATS.Net headers (a repeated name keeps every value, in order).</summary>
    public static NatsHeaders ToHeaders(ReadOnlySpan<byte> block)
    {
        var headers = new NatsHeaders();
        var reader = new HeaderReader(block);
        while (reader.MoveNext())
        {
            var name = Encoding.UTF8.GetString(reader.Name);
            var value = Encoding.UTF8.GetString(reader.Value);
            headers[name] = headers.TryGetValue(name, out var existing) ? StringValues.Concat(existing, value) : new StringValues(value);
        }

        return headers;
    }
}

/// <summary>Contiguous bytes of a header block (pooled copy only when the receive buffer split it).</summary>
internal ref struct HeaderBlock
{
    private byte[]? _rented;

    public HeaderBlock(in ReadOnlySequence<byte>? headers)
    {
        _rented = null;
        if (headers is not { IsEmpty: false } h)
        {
            Span = default;
        }
        else if (h.IsSingleSegment)
        {
            Span = h.FirstSpan;
        }
        else
        {
            _rented = ArrayPool<byte>.Shared.Rent((int)h.Length);
            h.CopyTo(_rented);
            Span = _rented.AsSpan(0, (int)h.Length);
        }
    }

    public ReadOnlySpan<byte> Span { get; }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
            _rented = null;
        }
    }
}

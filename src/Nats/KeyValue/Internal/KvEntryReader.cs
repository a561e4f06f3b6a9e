using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using CacheProvider.Nats.Internal;

namespace CacheProvider.Nats.KeyValue.Internal;

/// <summary>Turns stored KV messages (direct get replies, consumer deliveries, leader reads) into entries.</summary>
internal static class KvEntryReader
{
    /// <summary>Returned by the direct-get parser when a different stream (a mirror) answered.</summary>
    public static readonly KvEntry StreamMismatch = new() { Bucket = string.Empty, Key = string.Empty };

    public static KvOperation ParseOperation(string? op) => op switch
    {
        "DEL" => KvOperation.Delete,
        "PURGE" => KvOperation.Purge,
        _ => KvOperation.Put,
    };

    public static KvMarkerReason ParseMarker(string? reason) => reason switch
    {
        null or "" => KvMarkerReason.None,
        "MaxAge" => KvMarkerReason.Expired,
        "Purge" => KvMarkerReason.Purged,
        "Remove" => KvMarkerReason.Removed,
        _ => KvMarkerReason.Expired,
    };

    /// <summary>Builds an entry from stored headers. Markers carry no KV-Operation: their reason decides.</summary>
    public static KvEntry FromHeaders(string bucket, string key, NatsHeaders? headers, ReadOnlyMemory<byte> value, int valueLength, ulong revision, DateTimeOffset created, ulong delta)
    {
        string? op = null, reason = null, ttlText = null;
        if (headers is not null)
        {
            headers.TryGetValue("KV-Operation", out var o);
            headers.TryGetValue("Nats-Marker-Reason", out var r);
            headers.TryGetValue(TtlFormat.HeaderName, out var t);
            op = o.Length > 0 ? o : null;
            reason = r.Length > 0 ? r : null;
            ttlText = t.Length > 0 ? t : null;
            if (headers.TryGetValue("Nats-Msg-Size", out var size) && int.TryParse(size, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                valueLength = n;
            }
        }

        var marker = ParseMarker(reason);
        var operation = marker switch
        {
            KvMarkerReason.None => ParseOperation(op),
            KvMarkerReason.Removed => KvOperation.Delete,
            _ => KvOperation.Purge,
        };
        TimeSpan? ttl = ttlText is not null && TtlFormat.TryParse(ttlText, out var parsed) ? parsed : null;
        return new KvEntry
        {
            Bucket = bucket,
            Key = key,
            Value = value,
            ValueLength = valueLength,
            Revision = revision,
            Created = created,
            Delta = delta,
            Operation = operation,
            MarkerReason = marker,
            Ttl = ttl,
            Headers = headers,
        };
    }

    /// <summary>Parses the <c>Nats-Time-Stamp</c> header value (RFC 3339 with nanoseconds).</summary>
    public static DateTimeOffset ParseTimestamp(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var ts) ? ts : default;
}

/// <summary>
/// Parses a direct-get reply into an entry on the read loop. With a destination writer the value is copied
/// straight from the receive buffer into it and the entry carries only metadata.
/// </summary>
internal readonly struct KvGetParser(string bucket, string key, string expectedStream, IBufferWriter<byte>? destination, DateTimeOffset now) : IReplyParser<KvEntry?>
{
    public KvEntry? Parse(in RawMessage reply)
    {
        var code = reply.StatusCode();
        if (code == 404)
        {
            return null;
        }

        if (code >= 400)
        {
            var h = HeaderCodec.Parse(reply.Headers);
            throw new JetStream.JetStreamApiException(code, 0, h.Description ?? "direct get failed");
        }

        var headers = reply.Headers.IsEmpty ? null : HeaderCodec.Parse(reply.Headers);
        if (headers is null || !headers.TryGetLastValue("Nats-Stream", out var stream) || !string.Equals(stream, expectedStream, StringComparison.Ordinal))
        {
            return KvEntryReader.StreamMismatch;
        }

        ulong revision = 0;
        if (headers.TryGetLastValue("Nats-Sequence", out var seqText))
        {
            _ = Utf8Parser.TryParse(Encoding.ASCII.GetBytes(seqText), out revision, out _);
        }

        var created = headers.TryGetLastValue("Nats-Time-Stamp", out var ts) ? KvEntryReader.ParseTimestamp(ts) : default;
        var length = (int)reply.Payload.Length;
        if (destination is null)
        {
            var value = length == 0 ? ReadOnlyMemory<byte>.Empty : reply.Payload.ToArray();
            return KvEntryReader.FromHeaders(bucket, key, headers, value, length, revision, created, 0);
        }

        // The caller's writer gets the bytes only for a current value, so a miss leaves it untouched.
        var entry = KvEntryReader.FromHeaders(bucket, key, headers, ReadOnlyMemory<byte>.Empty, length, revision, created, 0);
        if (entry.IsValue && !entry.IsExpiredAt(now))
        {
            reply.Payload.CopyTo(destination.GetSpan(length));
            destination.Advance(length);
        }

        return entry;
    }
}

using System.Buffers;
using System.Buffers.Text;
using CacheProvider.Nats.Internal;
using CacheProvider.Nats.JetStream;
using CacheProvider.Nats.KeyValue.Internal;

namespace CacheProvider.Caching.Internal;

internal enum CacheReadStatus : byte
{
    Hit,
    NotFound,
    Expired,
    ForeignStream,
    KeyMismatch,
}

/// <summary>What one read found. <see cref="Value"/> is set when the caller gave no writer or a copy was asked for.</summary>
internal readonly record struct CacheRead(
    CacheReadStatus Status, byte[]? Value, int Length, ulong Revision, long ServerDeadlineMs, long AbsoluteMs, long SlidingMs);

/// <summary>
/// Reads a direct-get reply while it is still in the receive buffer: scans the headers without materializing
/// them, refuses tombstones, markers, a foreign stream and anything past a deadline (server TTL or the entry's
/// absolute expiration), and only then copies the payload, straight into the caller's writer when there is one.
/// </summary>
internal readonly struct CacheReadParser(byte[] expectedStream, IBufferWriter<byte>? destination, long nowMs, string? expectedKeyHeader, bool wantCopy)
    : IReplyParser<CacheRead>
{
    public CacheRead Parse(in RawMessage reply)
    {
        var code = reply.StatusCode();
        if (code == 404)
        {
            return new CacheRead(CacheReadStatus.NotFound, null, 0, 0, 0, 0, 0);
        }

        if (code >= 400)
        {
            throw new JetStreamApiException(code, 0, "direct get failed");
        }

        if (reply.Headers.IsEmpty)
        {
            return new CacheRead(CacheReadStatus.ForeignStream, null, 0, 0, 0, 0, 0);
        }

        byte[]? rented = null;
        try
        {
            ReadOnlySpan<byte> block;
            if (reply.Headers.IsSingleSegment)
            {
                block = reply.Headers.FirstSpan;
            }
            else
            {
                rented = ArrayPool<byte>.Shared.Rent((int)reply.Headers.Length);
                reply.Headers.CopyTo(rented);
                block = rented.AsSpan(0, (int)reply.Headers.Length);
            }

            return Parse(block, reply.Payload);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private CacheRead Parse(ReadOnlySpan<byte> block, in ReadOnlySequence<byte> payload)
    {
        ReadOnlySpan<byte> stream = default, ttl = default, stamp = default, seq = default, abs = default, sld = default, keyHeader = default;
        var tombstone = false;
        var reader = new HeaderReader(block);
        while (reader.MoveNext())
        {
            var name = reader.Name;
            if (name.SequenceEqual("Nats-Stream"u8))
            {
                stream = reader.Value;
            }
            else if (name.SequenceEqual("Nats-TTL"u8))
            {
                ttl = reader.Value;
            }
            else if (name.SequenceEqual("Nats-Time-Stamp"u8))
            {
                stamp = reader.Value;
            }
            else if (name.SequenceEqual("Nats-Sequence"u8))
            {
                seq = reader.Value;
            }
            else if (name.SequenceEqual("KV-Operation"u8) || name.SequenceEqual("Nats-Marker-Reason"u8))
            {
                tombstone |= !reader.Value.IsEmpty;
            }
            else if (name.SequenceEqual("Cache-Abs"u8))
            {
                abs = reader.Value;
            }
            else if (name.SequenceEqual("Cache-Sld"u8))
            {
                sld = reader.Value;
            }
            else if (name.SequenceEqual("Cache-Key"u8))
            {
                keyHeader = reader.Value;
            }
        }

        if (!stream.SequenceEqual(expectedStream))
        {
            return new CacheRead(CacheReadStatus.ForeignStream, null, 0, 0, 0, 0, 0);
        }

        _ = Utf8Parser.TryParse(seq, out ulong revision, out _);
        if (tombstone)
        {
            return new CacheRead(CacheReadStatus.NotFound, null, 0, revision, 0, 0, 0);
        }

        _ = Utf8Parser.TryParse(abs, out long absoluteMs, out _);
        _ = Utf8Parser.TryParse(sld, out long slidingMs, out _);
        var deadline = 0L;
        if (!ttl.IsEmpty && TryParseTtlMs(ttl, out var ttlMs) && ttlMs > 0 && CacheTimestamps.TryParseUnixMs(stamp, out var storedMs))
        {
            deadline = storedMs + ttlMs;
        }

        if ((deadline > 0 && nowMs >= deadline) || (absoluteMs > 0 && nowMs >= absoluteMs))
        {
            return new CacheRead(CacheReadStatus.Expired, null, 0, revision, deadline, absoluteMs, slidingMs);
        }

        if (expectedKeyHeader is not null && !System.Text.Ascii.Equals(keyHeader, expectedKeyHeader))
        {
            return new CacheRead(CacheReadStatus.KeyMismatch, null, 0, revision, deadline, absoluteMs, slidingMs);
        }

        var length = (int)payload.Length;
        byte[]? copy = null;
        if (destination is not null)
        {
            payload.CopyTo(destination.GetSpan(length));
            destination.Advance(length);
        }

        if (destination is null || wantCopy || ExpirationPlan.NeedsRenewal(slidingMs, deadline, absoluteMs, nowMs))
        {
            // The renewal rewrites the value, and the caller's writer cannot be read back: keep a copy then.
            copy = length == 0 ? [] : payload.ToArray();
        }

        return new CacheRead(CacheReadStatus.Hit, copy, length, revision, deadline, absoluteMs, slidingMs);
    }

    private static bool TryParseTtlMs(ReadOnlySpan<byte> text, out long ms)
    {
        if (Utf8Parser.TryParse(text, out long seconds, out var used) && used == text.Length)
        {
            ms = seconds * 1000;
            return true;
        }

        Span<char> chars = stackalloc char[Math.Min(text.Length, 64)];
        var n = System.Text.Encoding.ASCII.GetChars(text[..chars.Length], chars);
        if (TtlFormat.TryParse(chars[..n], out var span) && span != Timeout.InfiniteTimeSpan)
        {
            ms = (long)span.TotalMilliseconds;
            return true;
        }

        ms = 0;
        return false;
    }
}

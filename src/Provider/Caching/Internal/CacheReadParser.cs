using System.Buffers;
using System.Buffers.Text;
using CacheProvider.KeyValue;

namespace CacheProvider.Caching.Internal;

internal enum CacheReadStatus : byte
{
    Hit,
    NotFound,
    Expired,
    KeyMismatch,
}

/// <summary>What one read found. <see cref="Value"/> is set when the caller gave no writer or a copy was asked for.</summary>
internal readonly record struct CacheRead(
    CacheReadStatus Status, byte[]? Value, int Length, ulong Revision, long ServerDeadlineMs, long AbsoluteMs, long SlidingMs);

/// <summary>
/// Reads a cache entry while it is still in the receive buffer (<see cref="KvBucket.ReadAsync{TReader, TResult}"/>): scans
/// the cache's headers without materialising them, refuses tombstones, markers and anything past a deadline (server TTL,
/// the entry's absolute expiration, or a sliding entry's stored lifetime, <see cref="ExpirationPlan.StoredDeadline"/>),
/// and only then copies the payload, straight into the caller's writer when there is one.
/// </summary>
internal readonly struct CacheReadParser(IBufferWriter<byte>? destination, long nowMs, string? expectedKeyHeader, bool wantCopy, double slidingSlack)
    : IKvEntryReader<CacheRead>
{
    public CacheRead Read(in KvRawEntry entry)
    {
        if (!entry.IsValue)
        {
            return new CacheRead(CacheReadStatus.NotFound, null, 0, entry.Revision, 0, 0, 0);
        }

        ReadOnlySpan<byte> abs = default, sld = default, keyHeader = default;
        var headers = entry.EnumerateHeaders();
        while (headers.MoveNext())
        {
            var name = headers.Name;
            if (name.Length != 9 || !name.StartsWith("Cache-"u8))
            {
                continue;
            }

            if (name.SequenceEqual(ExpirationPlan.AbsoluteHeaderUtf8))
            {
                abs = headers.Value;
            }
            else if (name.SequenceEqual(ExpirationPlan.SlidingHeaderUtf8))
            {
                sld = headers.Value;
            }
            else if (name.SequenceEqual(ExpirationPlan.KeyHeaderUtf8))
            {
                keyHeader = headers.Value;
            }
        }

        _ = Utf8Parser.TryParse(abs, out long absoluteMs, out _);
        _ = Utf8Parser.TryParse(sld, out long slidingMs, out _);
        var deadline = ExpirationPlan.StoredDeadline(entry.CreatedUnixMs, entry.ExpiresAtUnixMs, slidingMs, slidingSlack);
        var revision = entry.Revision;
        if ((deadline > 0 && nowMs >= deadline) || (absoluteMs > 0 && nowMs >= absoluteMs))
        {
            return new CacheRead(CacheReadStatus.Expired, null, 0, revision, deadline, absoluteMs, slidingMs);
        }

        if (expectedKeyHeader is not null && !System.Text.Ascii.Equals(keyHeader, expectedKeyHeader))
        {
            return new CacheRead(CacheReadStatus.KeyMismatch, null, 0, revision, deadline, absoluteMs, slidingMs);
        }

        var payload = entry.Value;
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
}

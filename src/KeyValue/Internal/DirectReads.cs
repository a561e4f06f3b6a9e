using System.Buffers;

namespace CacheProvider.KeyValue.Internal;

/// <summary>A direct-get result, or the news that another stream (a mirror with mirror_direct) answered.</summary>
internal readonly record struct DirectResult<T>(bool Foreign, bool NotFound, T Value);

/// <summary>
/// Parses a direct-get reply on the read loop: a 404 is "not found", a reply whose <c>Nats-Stream</c> is not the
/// bucket's stream is foreign (the caller re-reads from the leader), anything else goes to the caller's reader.
/// </summary>
internal readonly struct DirectReadParser<TReader, TResult>(string key, byte[] expectedStream, TReader reader) : IReplyParser<DirectResult<TResult>>
    where TReader : IKvEntryReader<TResult>
{
    public DirectResult<TResult> Parse(int status, ReadOnlySpan<byte> headers, in ReadOnlySequence<byte> payload)
    {
        if (status == 404)
        {
            var none = new KvRawEntry(key, default, default, 0, 0, 0, KvOperation.Put, KvMarkerReason.None, 0);
            return new DirectResult<TResult>(false, true, reader.Read(none));
        }

        if (status >= 400)
        {
            throw JsApi.DirectGetError(status, headers.IsEmpty ? null : System.Text.Encoding.UTF8.GetString(new HeaderReader(headers).Description));
        }

        if (headers.IsEmpty)
        {
            return new DirectResult<TResult>(true, false, default!);
        }

        var p = EntryParser.Scan(headers);
        if (!p.Stream.SequenceEqual(expectedStream))
        {
            return new DirectResult<TResult>(true, false, default!);
        }

        return new DirectResult<TResult>(false, false, reader.Read(p.ToRaw(key, headers, payload)));
    }
}

/// <summary>Materialises the entry (headers and a copy of the value).</summary>
internal readonly struct EntryMaterializer(string bucket) : IKvEntryReader<KvEntry?>
{
    public KvEntry? Read(in KvRawEntry entry)
    {
        if (!entry.Found)
        {
            return null;
        }

        var block = entry.HeaderBlock;
        var p = EntryParser.Scan(entry);
        return p.ToEntry(bucket, entry.Key, block, entry.Value.IsEmpty ? ReadOnlyMemory<byte>.Empty : entry.Value.ToArray(), (int)entry.Value.Length, 0);
    }
}

/// <summary>
/// Copies a current value (not a tombstone, marker or expired value) into the caller's writer and returns the entry's
/// metadata; a miss leaves the writer untouched.
/// </summary>
internal readonly struct WriterMaterializer(string bucket, IBufferWriter<byte> destination, long nowUnixMs) : IKvEntryReader<KvEntry?>
{
    public KvEntry? Read(in KvRawEntry entry)
    {
        if (!entry.Found)
        {
            return null;
        }

        var block = entry.HeaderBlock;
        var p = EntryParser.Scan(entry);
        if (entry.IsValue && !entry.IsExpiredAt(nowUnixMs))
        {
            var length = (int)entry.Value.Length;
            entry.Value.CopyTo(destination.GetSpan(length));
            destination.Advance(length);
        }

        return p.ToEntry(bucket, entry.Key, block, ReadOnlyMemory<byte>.Empty, (int)entry.Value.Length, 0);
    }
}

using System.Buffers;
using CacheProvider.KeyValue.Internal;

namespace CacheProvider.KeyValue;

/// <summary>
/// The latest revision of a key as it sits in the receive buffer, handed to an <see cref="IKvEntryReader{TResult}"/>:
/// nothing is materialised (no header dictionary, no value copy) unless the reader copies it. Valid only during
/// <see cref="IKvEntryReader{TResult}.Read"/>.
/// </summary>
public readonly ref struct KvRawEntry
{
    private readonly ReadOnlySpan<byte> _headers;
    private readonly long _createdTicks;
    private readonly long _ttlTicks;

    internal KvRawEntry(string key, ReadOnlySpan<byte> headers, ReadOnlySequence<byte> value, int valueLength, ulong revision, long createdTicks, KvOperation operation, KvMarkerReason marker, long ttlTicks)
    {
        Key = key;
        _headers = headers;
        Value = value;
        ValueLength = valueLength;
        Revision = revision;
        _createdTicks = createdTicks;
        Operation = operation;
        MarkerReason = marker;
        _ttlTicks = ttlTicks;
    }

    /// <summary>The key read.</summary>
    public string Key { get; }

    /// <summary>Whether the key has any message (value, tombstone or marker); false: never written or fully purged.</summary>
    public bool Found => Revision != 0;

    /// <summary>Revision (stream sequence); 0 when not found.</summary>
    public ulong Revision { get; }

    /// <summary>When the server stored this revision.</summary>
    public DateTimeOffset Created => new(_createdTicks, TimeSpan.Zero);

    /// <summary><see cref="Created"/> in Unix milliseconds.</summary>
    public long CreatedUnixMs => _createdTicks == 0 ? 0 : Rfc3339.ToUnixMs(_createdTicks);

    /// <summary>Put, delete or purge.</summary>
    public KvOperation Operation { get; }

    /// <summary>Set when the server wrote this revision as a limit marker.</summary>
    public KvMarkerReason MarkerReason { get; }

    /// <summary>Whether this revision is a value (not a tombstone or marker).</summary>
    public bool IsValue => Found && Operation == KvOperation.Put && MarkerReason == KvMarkerReason.None;

    /// <summary>The per-key TTL this revision was written with (<see cref="Timeout.InfiniteTimeSpan"/> = never); null without one.</summary>
    public TimeSpan? Ttl => _ttlTicks switch
    {
        0 => null,
        < 0 => Timeout.InfiniteTimeSpan,
        _ => TimeSpan.FromTicks(_ttlTicks),
    };

    /// <summary><see cref="Created"/> + TTL in Unix milliseconds; 0 without a finite TTL.</summary>
    public long ExpiresAtUnixMs => _ttlTicks > 0 && _createdTicks > 0 ? Rfc3339.ToUnixMs(_createdTicks + _ttlTicks) : 0;

    /// <summary>The value (empty for tombstones, markers and headers-only reads).</summary>
    public ReadOnlySequence<byte> Value { get; }

    /// <summary>Length of the stored value in bytes.</summary>
    public int ValueLength { get; }

    /// <summary>Whether the value is past its TTL at <paramref name="nowUnixMs"/> (the server may still serve it ≈ 250 ms).</summary>
    public bool IsExpiredAt(long nowUnixMs) => ExpiresAtUnixMs is > 0 and var at && at <= nowUnixMs;

    /// <summary>The raw header block (<c>NATS/1.0…</c>); empty when there is none.</summary>
    internal ReadOnlySpan<byte> HeaderBlock => _headers;

    /// <summary>The last value of header <paramref name="name"/> (case-sensitive ASCII name), without allocating.</summary>
    public bool TryGetHeader(ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (_headers.IsEmpty)
        {
            return false;
        }

        var found = false;
        var reader = new HeaderReader(_headers);
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

    /// <summary>Every header of this revision in order (stored ones first, then those the server added to the read).</summary>
    public KvHeaderEnumerator EnumerateHeaders() => new(_headers);
}

/// <summary>Walks the headers of a <see cref="KvRawEntry"/> without allocating.</summary>
public ref struct KvHeaderEnumerator
{
    private HeaderReader _reader;
    private readonly bool _empty;

    internal KvHeaderEnumerator(ReadOnlySpan<byte> block)
    {
        _empty = block.IsEmpty;
        _reader = _empty ? default : new HeaderReader(block);
    }

    /// <summary>The current header's name.</summary>
    public readonly ReadOnlySpan<byte> Name => _reader.Name;

    /// <summary>The current header's value.</summary>
    public readonly ReadOnlySpan<byte> Value => _reader.Value;

    /// <summary>Moves to the next header.</summary>
    public bool MoveNext() => !_empty && _reader.MoveNext();
}

/// <summary>
/// Turns the latest revision of a key into a result while it is still in the receive buffer (see
/// <see cref="KvBucket.ReadAsync{TReader, TResult}"/>). A direct read calls it on the connection's read loop: keep it
/// short and never block.
/// </summary>
/// <typeparam name="TResult">What the reader produces.</typeparam>
public interface IKvEntryReader<out TResult>
{
    /// <summary>Reads <paramref name="entry"/>; called once per read, also when the key was not found.</summary>
    TResult Read(in KvRawEntry entry);
}

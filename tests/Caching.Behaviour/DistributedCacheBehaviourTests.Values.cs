using System.Buffers;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching.Behaviour;

/// <summary>Values: empty, every byte, large; the buffer API (<see cref="IBufferDistributedCache"/>).</summary>
public abstract partial class DistributedCacheBehaviourTests
{
    // Large, yet inside every backend's limits (NATS' default max payload is 1 MiB, headers included).
    private const int LargeValueBytes = 512 * 1024;

    [Fact]
    public async Task An_empty_value_is_a_hit_not_a_miss()
    {
        var key = NewKey();
        await Cache.SetAsync(key, [], NoExpiration);
        Assert.Equal(Array.Empty<byte>(), await Cache.GetAsync(key));
        Assert.Equal(Array.Empty<byte>(), await OtherCache.GetAsync(key));
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(await Cache.TryGetAsync(key, writer));
        Assert.Equal(0, writer.WrittenCount);

        var fromSequence = NewKey();
        await Cache.SetAsync(fromSequence, ReadOnlySequence<byte>.Empty, NoExpiration);
        Assert.Equal(Array.Empty<byte>(), await Cache.GetAsync(fromSequence));
    }

    [Fact]
    public async Task Binary_values_small_and_large_round_trip_unchanged()
    {
        var everyByte = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var large = new byte[LargeValueBytes];
        new Random(14).NextBytes(large);
        var small = NewKey();
        var big = NewKey();
        await Cache.SetAsync(small, everyByte, NoExpiration);
        await Cache.SetAsync(big, large, NoExpiration);

        Assert.Equal(everyByte, await Cache.GetAsync(small));
        Assert.Equal(large, await Cache.GetAsync(big));
        Assert.Equal(large, await OtherCache.GetAsync(big));
        var writer = new ArrayBufferWriter<byte>();
        Assert.True(await Cache.TryGetAsync(big, writer));
        Assert.True(writer.WrittenSpan.SequenceEqual(large));
    }

    [Fact]
    public async Task TryGet_appends_the_value_to_the_writer_and_a_miss_writes_nothing()
    {
        var key = NewKey();
        var writer = new ArrayBufferWriter<byte>();
        writer.Write("prefix:"u8);
        Assert.False(await Cache.TryGetAsync(key, writer));
        Assert.Equal("prefix:"u8.ToArray(), writer.WrittenSpan.ToArray());

        await Cache.SetAsync(key, "value"u8.ToArray(), NoExpiration);
        Assert.True(await Cache.TryGetAsync(key, writer));
        Assert.Equal("prefix:value"u8.ToArray(), writer.WrittenSpan.ToArray());
        Assert.True(Cache.TryGet(key, writer));
        Assert.Equal("prefix:valuevalue"u8.ToArray(), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task A_multi_segment_sequence_is_stored_as_its_bytes_in_order()
    {
        // Three segments (one empty) and a slice that starts and ends inside a segment.
        var first = new Segment("abc"u8.ToArray());
        var last = first.Append(ReadOnlyMemory<byte>.Empty).Append("defg"u8.ToArray());
        var key = NewKey();
        await Cache.SetAsync(key, new ReadOnlySequence<byte>(first, 0, last, 4), NoExpiration);
        Assert.Equal("abcdefg"u8.ToArray(), await Cache.GetAsync(key));

        var sliced = NewKey();
        await Cache.SetAsync(sliced, new ReadOnlySequence<byte>(first, 1, last, 3), NoExpiration);
        Assert.Equal("bcdef"u8.ToArray(), await OtherCache.GetAsync(sliced));

        var writer = new ArrayBufferWriter<byte>();
        Assert.True(await Cache.TryGetAsync(sliced, writer));
        Assert.Equal("bcdef"u8.ToArray(), writer.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task A_large_multi_segment_sequence_round_trips()
    {
        var bytes = new byte[LargeValueBytes];
        new Random(15).NextBytes(bytes);
        var first = new Segment(bytes.AsMemory(0, 1000));
        var last = first.Append(bytes.AsMemory(1000, 200_000)).Append(bytes.AsMemory(201_000));
        var key = NewKey();
        await Cache.SetAsync(key, new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length), NoExpiration);
        Assert.Equal(bytes, await Cache.GetAsync(key));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}

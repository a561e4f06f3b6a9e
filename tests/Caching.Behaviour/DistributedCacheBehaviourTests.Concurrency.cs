using System.Buffers;

namespace CacheProvider.Caching.Behaviour;

/// <summary>Concurrent sets and gets of one key, through both instances.</summary>
public abstract partial class DistributedCacheBehaviourTests
{
    [Fact]
    public async Task Concurrent_sets_and_gets_of_one_key_see_whole_values_and_end_on_one_of_them()
    {
        const int writers = 32;
        const int length = 4096;
        var key = NewKey();
        var caches = new[] { Cache, OtherCache };

        // Value i is i repeated: a torn or mixed value shows as a byte that differs from the first.
        static byte[] ValueOf(int i) => Enumerable.Repeat((byte)i, length).ToArray();

        static string Describe(byte[]? value) => value is null ? "missing" : $"{value.Length} bytes, first {value[0]}";

        static void AssertWhole(byte[]? value)
        {
            if (value is not null)
            {
                Assert.Equal(length, value.Length);
                Assert.True(value[0] < writers && value.AsSpan().IndexOfAnyExcept(value[0]) < 0, "a torn or foreign value");
            }
        }

        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var cache = caches[r % 2];
            var reads = 0;
            while (!stop.IsCancellationRequested || reads == 0)
            {
                if (r < 2)
                {
                    AssertWhole(await cache.GetAsync(key));
                }
                else
                {
                    var writer = new ArrayBufferWriter<byte>();
                    AssertWhole(await cache.TryGetAsync(key, writer) ? writer.WrittenSpan.ToArray() : null);
                }

                reads++;
            }
        })).ToArray();

        await Task.WhenAll(Enumerable.Range(0, writers).Select(i => Task.Run(() => caches[i % 2].SetAsync(key, ValueOf(i), NoExpiration))));
        await stop.CancelAsync();
        await Task.WhenAll(readers);

        // An instance that keeps values near may briefly hold a value another instance replaced: they converge.
        byte[]? final = null;
        byte[]? other = null;
        Assert.True(await EventuallyAsync(async () =>
        {
            final = await Cache.GetAsync(key);
            other = await OtherCache.GetAsync(key);
            return final is not null && final.AsSpan().SequenceEqual(other);
        }), $"the instances never agreed on the last value: {Describe(final)} and {Describe(other)}");
        AssertWhole(final);
    }
}

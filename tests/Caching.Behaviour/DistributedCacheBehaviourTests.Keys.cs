using System.Buffers;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching.Behaviour;

/// <summary>Any string is a key: case, whitespace, separators, wildcards, control characters, non-ASCII, length.</summary>
public abstract partial class DistributedCacheBehaviourTests
{
    // The empty key and keys of white space only (Unicode's, not just ASCII's).
    private static readonly string[] BlankKeys = ["", " ", "\t", "\r\n", "\u00a0", "\u2003"];

    // Keys one store would treat specially (NATS subjects: '.', '*', '>'; encoders: '_' prefixes; SQL: trailing
    // spaces), and pairs that only differ in case or in Unicode normalisation.
    private static readonly string[] UnusualKeys =
    [
        "  padded  ", "\u00a0x", "Key", "key", "KEY", "a.b", "a..b", ".", "..", ".lead", "trail.", "*", ">", "a.*", "a.>",
        "a b", "a\tb", "a\r\nb", "\0", "\u0001ctl", "user:42", "x=y", "a/b", "a\\b", "_", "_b.YQ", "_h.00", "=",
        "__MSFT_HCT__tag:a*b", "%20", "{}", "ключ", "键", "emoji 🎉", "\u00e9", "e\u0301",
    ];

    [Fact]
    public async Task Keys_with_unusual_characters_round_trip_and_never_collide()
    {
        var keys = UnusualKeys.Concat(BlankKeys).Distinct(StringComparer.Ordinal).Where(k => !RefusesBlankKeys || !string.IsNullOrWhiteSpace(k)).ToArray();

        // These keys are shared by every run of this test on the store: clear them first.
        foreach (var key in keys)
        {
            await Cache.RemoveAsync(key);
        }

        for (var i = 0; i < keys.Length; i++)
        {
            await Cache.SetAsync(keys[i], BitConverter.GetBytes(i), NoExpiration);
        }

        for (var i = 0; i < keys.Length; i++)
        {
            var expected = BitConverter.GetBytes(i);
            var mine = await Cache.GetAsync(keys[i]);
            var theirs = await OtherCache.GetAsync(keys[i]);
            Assert.True(expected.AsSpan().SequenceEqual(mine), $"key #{i} read back wrong");
            Assert.True(expected.AsSpan().SequenceEqual(theirs), $"key #{i} read back wrong by the other instance");
        }

        foreach (var key in keys)
        {
            await Cache.RemoveAsync(key);
            Assert.Null(await Cache.GetAsync(key));
        }
    }

    [Fact]
    public async Task Blank_keys_are_refused_only_by_a_cache_that_says_it_refuses_them()
    {
        if (!RefusesBlankKeys)
        {
            // They are keys like any other: the test above stores and reads them.
            foreach (var key in BlankKeys)
            {
                await Cache.SetAsync(key, [7], NoExpiration);
                Assert.Equal([7], await Cache.GetAsync(key));
                await Cache.RemoveAsync(key);
            }

            return;
        }

        var writer = new ArrayBufferWriter<byte>();
        foreach (var key in BlankKeys)
        {
            Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentException>(() => Cache.SetAsync(key, [1], NoExpiration))).ParamName);
            Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentException>(async () => await Cache.SetAsync(key, new ReadOnlySequence<byte>([1]), NoExpiration))).ParamName);
            Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentException>(() => Cache.GetAsync(key))).ParamName);
            Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentException>(async () => await Cache.TryGetAsync(key, writer))).ParamName);
            Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentException>(() => Cache.RefreshAsync(key))).ParamName);
            Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentException>(() => Cache.RemoveAsync(key))).ParamName);
            Assert.Equal("key", Assert.Throws<ArgumentException>(() => Cache.Get(key)).ParamName);
            Assert.Equal("key", Assert.Throws<ArgumentException>(() => Cache.Set(key, [1], NoExpiration)).ParamName);
        }

        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public async Task Long_keys_round_trip_and_keys_differing_only_in_their_last_character_stay_apart()
    {
        var stem = NewKey();
        var keys = new[]
        {
            stem + new string('z', 4000) + "a", stem + new string('z', 4000) + "b",
            stem + new string('ж', 2000) + "a", stem + new string('ж', 2000) + "ж",
        };
        for (var i = 0; i < keys.Length; i++)
        {
            await Cache.SetAsync(keys[i], [(byte)i], NoExpiration);
        }

        for (var i = 0; i < keys.Length; i++)
        {
            Assert.Equal(new[] { (byte)i }, await Cache.GetAsync(keys[i]));
        }

        await Cache.RemoveAsync(keys[0]);
        Assert.Null(await Cache.GetAsync(keys[0]));
        Assert.Equal([1], await Cache.GetAsync(keys[1]));
    }

    [Fact]
    public async Task Keys_up_to_the_caches_limit_work_and_longer_ones_are_refused()
    {
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5), SlidingExpiration = TimeSpan.FromMinutes(1) };
        if (MaxKeyUtf8Bytes is not { } limit)
        {
            // No limit of its own: a key twice the size of a typical server's control-line limit still works.
            var huge = NewKey() + new string('k', 64 * 1024);
            await Cache.SetAsync(huge, [1], options);
            Assert.Equal([1], await Cache.GetAsync(huge));
            await Cache.RemoveAsync(huge);
            Assert.Null(await Cache.GetAsync(huge));
            return;
        }

        // At the limit in ASCII and in two-byte characters; the unique stem is in front so runs never meet.
        var stem = NewKey();
        var ascii = stem + new string('a', limit - stem.Length);
        var twoByte = stem + new string('ж', (limit - stem.Length) / 2);
        foreach (var key in new[] { ascii, twoByte })
        {
            Assert.True(Encoding.UTF8.GetByteCount(key) <= limit);
            await Cache.SetAsync(key, [2], options);
            Assert.Equal([2], await Cache.GetAsync(key));
            await Cache.RefreshAsync(key);
            await Cache.RemoveAsync(key);
            Assert.Null(await Cache.GetAsync(key));
        }

        foreach (var tooLong in new[] { ascii + "a", twoByte + "жж" })
        {
            Assert.True(Encoding.UTF8.GetByteCount(tooLong) > limit);
            Assert.Equal("key", (await Assert.ThrowsAsync<ArgumentException>(() => Cache.SetAsync(tooLong, [1], options))).ParamName);
            await Assert.ThrowsAsync<ArgumentException>(async () => await Cache.SetAsync(tooLong, new ReadOnlySequence<byte>([1]), options));
            await Assert.ThrowsAsync<ArgumentException>(() => Cache.GetAsync(tooLong));
            await Assert.ThrowsAsync<ArgumentException>(async () => await Cache.TryGetAsync(tooLong, new ArrayBufferWriter<byte>()));
            await Assert.ThrowsAsync<ArgumentException>(() => Cache.RefreshAsync(tooLong));
            await Assert.ThrowsAsync<ArgumentException>(() => Cache.RemoveAsync(tooLong));
        }
    }
}

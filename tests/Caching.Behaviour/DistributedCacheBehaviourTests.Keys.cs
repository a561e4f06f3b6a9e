using System.Buffers;
using System.Text;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Caching.Behaviour;

/// <summary>Any string is a key: case, whitespace, separators, wildcards, control characters, non-ASCII, length.</summary>
public abstract partial class DistributedCacheBehaviourTests
{
    // Keys one store would treat specially (NATS subjects: '.', '*', '>'; encoders: '_' prefixes; SQL: trailing
    // spaces), and pairs that only differ in case or in Unicode normalisation.
    private static readonly string[] UnusualKeys =
    [
        "", " ", "  padded  ", "Key", "key", "KEY", "a.b", "a..b", ".", "..", ".lead", "trail.", "*", ">", "a.*", "a.>",
        "a b", "a\tb", "a\r\nb", "\0", "\u0001ctl", "user:42", "x=y", "a/b", "a\\b", "_", "_b.YQ", "_h.00", "=",
        "__MSFT_HCT__tag:a*b", "%20", "{}", "ключ", "键", "emoji 🎉", "\u00e9", "e\u0301",
    ];

    [Fact]
    public async Task Keys_with_unusual_characters_round_trip_and_never_collide()
    {
        // These keys are shared by every run of this test on the store: clear them first.
        foreach (var key in UnusualKeys)
        {
            await Cache.RemoveAsync(key);
        }

        for (var i = 0; i < UnusualKeys.Length; i++)
        {
            await Cache.SetAsync(UnusualKeys[i], BitConverter.GetBytes(i), NoExpiration);
        }

        for (var i = 0; i < UnusualKeys.Length; i++)
        {
            var expected = BitConverter.GetBytes(i);
            var mine = await Cache.GetAsync(UnusualKeys[i]);
            var theirs = await OtherCache.GetAsync(UnusualKeys[i]);
            Assert.True(expected.AsSpan().SequenceEqual(mine), $"key #{i} read back wrong");
            Assert.True(expected.AsSpan().SequenceEqual(theirs), $"key #{i} read back wrong by the other instance");
        }

        foreach (var key in UnusualKeys)
        {
            await Cache.RemoveAsync(key);
            Assert.Null(await Cache.GetAsync(key));
        }
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

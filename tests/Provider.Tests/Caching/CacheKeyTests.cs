using System.Text;
using CacheProvider.Caching;
using CacheProvider.Caching.Internal;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Tests.Caching;

public sealed class CacheKeyTests(ITestOutputHelper output)
{
    [Fact]
    public void Different_keys_never_map_to_the_same_kv_key()
    {
        var codec = new CacheKeyCodec("app");
        var random = new Random(12345);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var special = new[] { "", ".", "..", "a.b", "a..b", ".a", "a.", "*", ">", "a.*", "a b", "_b.YQ", "_h.00", "_x", "ключ", "a\r\nb", "\0", "x=y", "a/b", new string('k', 600), new string('k', 601) };
        foreach (var key in special.Concat(Enumerable.Range(0, 20_000).Select(_ => RandomKey(random))))
        {
            var kv = codec.Encode(key, out var hashed);
            Assert.True(IsValidKvKey(kv), $"'{kv}' is not a valid KV key (from '{Escape(key)}')");
            Assert.True(kv.Length <= CacheKeyCodec.MaxEncodedLength + 8);
            if (seen.TryGetValue(kv, out var other))
            {
                Assert.Equal(other, key);
            }

            seen[kv] = key;
            Assert.True(codec.TryDecode(kv, hashed ? CacheKeyCodec.KeyHeaderValue(key) : null, out var back));
            Assert.Equal(key, back);
        }
    }

    [Fact]
    public void Valid_kv_keys_stay_readable()
    {
        var codec = new CacheKeyCodec(null);
        Assert.Equal("user/42.profile", codec.Encode("user/42.profile", out _));
        Assert.StartsWith("_b.", codec.Encode("user:42", out _), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789abcdef")] // 16 characters and more take the vectorized check, shorter ones the table walk
    public void Keys_stay_plain_exactly_when_they_are_valid_kv_keys_at_any_length(string padding)
    {
        var codec = new CacheKeyCodec(null);
        foreach (var core in new[] { "a", "user/42.profile", "A-Z_a=z/0.9", "tenant-1.x" })
        {
            Assert.Equal(padding + core, codec.Encode(padding + core, out _));
        }

        foreach (var core in new[] { "a..b", "a:b", "a b", "a*b", "a>b", "ключ", "a\u00e9", "a\u007fb", "a.", "a\tb", "a~b", "a{b" })
        {
            Assert.StartsWith("_b.", codec.Encode(padding + core, out _), StringComparison.Ordinal);
        }

        Assert.StartsWith("_b.", codec.Encode("." + padding, out _), StringComparison.Ordinal);
        Assert.StartsWith("_b.", codec.Encode("_" + padding + "a", out _), StringComparison.Ordinal);
    }

    [Fact]
    public void Encoded_and_hashed_keys_keep_the_stored_format()
    {
        // Entries written by earlier versions must still be found: the encoding is part of the bucket format.
        static string Reference(string key) =>
            Convert.ToBase64String(Encoding.UTF8.GetBytes(key)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        var codec = new CacheKeyCodec("app");
        foreach (var key in new[] { "user:42", "ключ", "a\r\nb", "~~~", "?>?", new string('ü', 100), new string(':', 300) })
        {
            Assert.Equal("app._b." + Reference(key), codec.Encode(key, out var hashed));
            Assert.False(hashed);
        }

        var longKey = new string('ж', 1000);
        var expectedHash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(longKey)));
        Assert.Equal("app._h." + expectedHash, codec.Encode(longKey, out var longHashed));
        Assert.True(longHashed);
        Assert.Equal(Reference(longKey), CacheKeyCodec.KeyHeaderValue(longKey));
    }

    [Fact]
    public async Task Caches_with_different_key_prefixes_on_one_bucket_never_see_each_others_entries()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var app1 = h.Cache(o => o.KeyPrefix = "app1");
        var app2 = h.Cache(o => o.KeyPrefix = "app2");
        var unprefixed = h.Cache();

        // Plain, encoded and hashed keys (the behaviour suite runs any-string keys with and without a prefix).
        foreach (var key in new[] { "user/42", "user:42", new string('z', 4000) })
        {
            await app1.SetAsync(key, [1], new DistributedCacheEntryOptions());
            Assert.Null(await app2.GetAsync(key));
            Assert.Null(await unprefixed.GetAsync(key));
            Assert.Equal([1], (await app1.GetAsync(key))!);
        }
    }

    private static string RandomKey(Random r)
    {
        var length = r.Next(0, 40);
        var sb = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            sb.Append(r.Next(6) switch
            {
                0 => '.',
                1 => (char)r.Next(0, 32),
                2 => (char)r.Next(0x400, 0x4FF),
                3 => "*> :_-/="[r.Next(8)],
                _ => (char)r.Next('a', 'z' + 1),
            });
        }

        return sb.ToString();
    }

    private static bool IsValidKvKey(string k) =>
        k.Length > 0 && k[0] != '.' && k[^1] != '.' && !k.Contains("..", StringComparison.Ordinal) &&
        k.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '/' or '_' or '=' or '.');

    private static string Escape(string s) => string.Concat(s.Select(c => c < 32 ? $"\\x{(int)c:x2}" : c.ToString()));
}

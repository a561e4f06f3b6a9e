using System.Text;
using CacheProvider.Grains.Internal;

namespace CacheProvider.Grains.Tests.Hashing;

/// <summary>XXH32 against the published vectors (xxHash sanity values; cross-checked with libxxhash 0.8.1).</summary>
public sealed class XxHash32Tests
{
    [Theory]
    [InlineData("", 0u, 0x02CC5D05u)]
    [InlineData("a", 0u, 0x550D7456u)]
    [InlineData("abc", 0u, 0x32D153FFu)]
    [InlineData("Nobody inspects the spammish repetition", 0u, 0xE2293B2Fu)]
    [InlineData("0123456789abcdef", 0u, 0xC2C45B69u)]
    [InlineData("0123456789abcdefg", 0u, 0xCC79B217u)]
    [InlineData("", 2654435761u, 0x36B78AE7u)]
    [InlineData("abc", 2654435761u, 0xA1AE7709u)]
    [InlineData("Nobody inspects the spammish repetition", 2654435761u, 0xC9E89E68u)]
    public void Matches_published_vectors(string input, uint seed, uint expected) =>
        Assert.Equal(expected, XxHash32.Hash(Encoding.ASCII.GetBytes(input), seed));

    [Fact]
    public void StableHash_is_the_byte_reversed_XXH32_as_Orleans_reads_it()
    {
        Assert.Equal(0x0AE1DAF4u, StableHash.ComputeHash("type"u8));
        Assert.Equal(0xE03AD9B3u, StableHash.ComputeHash("key"u8));
    }
}

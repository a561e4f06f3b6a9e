using CacheProvider.Grains.Internal;

namespace CacheProvider.Grains.Tests.Reminders;

/// <summary>Ring ranges → prefix filters: complete, bounded, and (0,0)/(x,x) = everything.</summary>
public sealed class HashRangeFilterTests
{
    [Theory]
    [InlineData(0u, 0u)]
    [InlineData(5u, 5u)]
    public void Equal_bounds_read_everything_with_one_filter(uint begin, uint end) =>
        Assert.Equal(["s.>"], HashRangeFilter.Build("s.", begin, end, 3, 64));

    [Fact]
    public void Predicate_is_unsigned_half_open_with_wrap_around()
    {
        Assert.True(HashRangeFilter.InRange(10, 5, 10));
        Assert.False(HashRangeFilter.InRange(5, 5, 10));
        Assert.True(HashRangeFilter.InRange(0xF0000001, 0xF0000000, 0x10000000));
        Assert.True(HashRangeFilter.InRange(0x10000000, 0xF0000000, 0x10000000));
        Assert.False(HashRangeFilter.InRange(0x10000001, 0xF0000000, 0x10000000));
        Assert.True(HashRangeFilter.InRange(0, 7, 7));
    }

    [Fact]
    public void Random_ranges_are_covered_completely_by_at_most_the_allowed_filters()
    {
        var random = new Random(42);
        for (var i = 0; i < 2_000; i++)
        {
            var begin = (uint)random.Next(int.MinValue, int.MaxValue);
            var end = (uint)random.Next(int.MinValue, int.MaxValue);
            var filters = HashRangeFilter.Build("s.", begin, end, 3, 64);
            Assert.True(filters.Count <= 64);
            Assert.Equal(filters.Count, filters.Distinct().Count());
            for (var j = 0; j < 50; j++)
            {
                var h = (uint)random.Next(int.MinValue, int.MaxValue);
                if (HashRangeFilter.InRange(h, begin, end))
                {
                    Assert.Contains(filters, f => Matches(f, h));
                }
            }
        }
    }

    [Fact]
    public void A_sixteenth_of_the_ring_reads_about_a_sixteenth_of_the_leaves()
    {
        var begin = 0x12345678u;
        var end = begin + (uint.MaxValue / 16);
        var filters = HashRangeFilter.Build("s.", begin, end, 3, 64);
        double covered = 0;
        foreach (var f in filters)
        {
            covered += Math.Pow(16, -(f.Count(c => c == '.') - 1));
        }

        Assert.InRange(covered, 1.0 / 16, (1.0 / 16) + (2.0 / 4096) + 1e-9);
    }

    private static bool Matches(string filter, uint hash)
    {
        var tokens = filter.Split('.')[1..^1];
        for (var i = 0; i < tokens.Length; i++)
        {
            if (tokens[i] != ((hash >> (28 - (4 * i))) & 0xF).ToString("X"))
            {
                return false;
            }
        }

        return true;
    }
}

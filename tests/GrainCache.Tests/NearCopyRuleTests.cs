using CacheProvider.Grains.Caching.Internal;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>How long a front end may serve a copy, and how long the grain then keeps a sliding entry.</summary>
public sealed class NearCopyRuleTests
{
    private const long Now = 1_000_000;
    private const long Window = 4_000;

    [Fact]
    public void A_sliding_copy_ends_one_window_before_the_stored_TTL_and_the_grain_keeps_the_entry_until_that_TTL()
    {
        // Stored just now with TTL = window × 1.25.
        var serverDeadline = Now + (long)(Window * 1.25);
        var (copyMs, keep) = NearCopyRule.Plan(new CacheEntryExpiration(0, Window), serverDeadline, Now);
        Assert.Equal(serverDeadline - Window - Now, copyMs);
        Assert.Equal(serverDeadline, keep);

        // A hit at the last moment of the copy is covered for a whole window by what the grain keeps.
        var lastHit = Now + copyMs - 1;
        Assert.True(keep >= lastHit + Window);
    }

    [Fact]
    public void No_sliding_copy_when_less_than_a_window_of_stored_TTL_is_left()
    {
        Assert.Equal((NearCopyRule.None, 0L), NearCopyRule.Plan(new CacheEntryExpiration(0, Window), Now + Window, Now));
        Assert.Equal((NearCopyRule.None, 0L), NearCopyRule.Plan(new CacheEntryExpiration(0, Window), 0, Now));
    }

    [Fact]
    public void A_sliding_entry_stored_up_to_its_absolute_cap_is_copied_until_the_cap()
    {
        var cap = Now + 4_500;
        var (copyMs, keep) = NearCopyRule.Plan(new CacheEntryExpiration(cap, Window), cap, Now);
        Assert.Equal(cap - Now, copyMs);
        Assert.Equal(cap, keep);
    }

    [Fact]
    public void A_non_sliding_copy_ends_at_the_earlier_of_its_absolute_deadline_and_stored_TTL()
    {
        Assert.Equal((2_000L, 0L), NearCopyRule.Plan(new CacheEntryExpiration(Now + 2_000, 0), Now + 3_000, Now));
        Assert.Equal((1_000L, 0L), NearCopyRule.Plan(new CacheEntryExpiration(Now + 2_000, 0), Now + 1_000, Now));
        Assert.Equal((NearCopyRule.None, 0L), NearCopyRule.Plan(new CacheEntryExpiration(Now - 1, 0), Now + 1_000, Now));
    }

    [Fact]
    public void An_entry_without_expiration_is_copied_without_deadline() =>
        Assert.Equal((NearCopyRule.Unbounded, 0L), NearCopyRule.Plan(default, 0, Now));
}

namespace CacheProvider.FusionCache.Tests;

public sealed class NatsBackplaneSubjectsTests
{
    [Theory]
    [InlineData("FusionCache.Backplane:v2", "fusioncache.FusionCache.Backplane:v2")]
    [InlineData("my cache.Backplane:v2", "fusioncache.my%20cache.Backplane:v2")]
    [InlineData("a*b>.Backplane:v2", "fusioncache.a%2Ab%3E.Backplane:v2")]
    [InlineData(".x..y.", "fusioncache.%2Ex.%2Ey%2E")]
    [InlineData("Кэш", "fusioncache.%D0%9A%D1%8D%D1%88")]
    [InlineData("50%", "fusioncache.50%25")]
    public void Channel_names_become_valid_literal_subjects(string channel, string subject)
    {
        Assert.Equal(subject, NatsBackplaneSubjects.For("fusioncache", channel));
        Assert.True(NatsBackplaneSubjects.IsValidPrefix(subject));
    }

    [Fact]
    public void Different_channel_names_give_different_subjects()
    {
        string[] channels = ["a b", "a_b", "a%20b", "a.b", "a..b", "a%2E.b"];
        Assert.Equal(channels.Length, channels.Select(c => NatsBackplaneSubjects.For("p", c)).Distinct().Count());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a..b")]
    [InlineData("a.*")]
    [InlineData("a.>")]
    [InlineData("a b")]
    [InlineData(".a")]
    public void Invalid_subject_prefixes_are_rejected(string prefix)
    {
        var ex = Assert.Throws<ArgumentException>(() => new NatsBackplaneOptions { SubjectPrefix = prefix }.Validate());
        Assert.Contains("SubjectPrefix", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1025)]
    public void A_concurrency_outside_1_to_1024_is_rejected(int concurrency)
    {
        var ex = Assert.Throws<ArgumentException>(() => new NatsBackplaneOptions { MaxConcurrentMessages = concurrency }.Validate());
        Assert.Contains("MaxConcurrentMessages", ex.Message, StringComparison.Ordinal);
    }
}

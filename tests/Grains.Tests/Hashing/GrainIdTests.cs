using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace CacheProvider.Grains.Tests.Hashing;

/// <summary>GrainId mirror: Orleans' uniform hash vectors, string form and key encodings (contract §1.4).</summary>
public sealed class GrainIdTests
{
    [Fact]
    public void Uniform_hash_of_type_key_is_Orleans_test_vector() =>
        Assert.Equal(831806783u, GrainId.Create("type", "key").GetUniformHashCode());

    [Theory]
    [InlineData("clientaccount/4642c88644b837d308c9e139e4af937b", 0x4D71E4A2u)]
    [InlineData("user/a", 3965036571u)]
    [InlineData("b__c/d", 3721826218u)]
    [InlineData("c/d", 3610861588u)]
    public void Uniform_hash_matches_contract_vectors(string id, uint expected) =>
        Assert.Equal(expected, GrainId.Parse(id).GetUniformHashCode());

    [Fact]
    public void Integer_key_zero_is_0_and_hashes_like_Orleans() =>
        Assert.Equal(0xC43D2164u, GrainId.Create(GrainType.Create("my-grain-type"), GrainIdKeyExtensions.CreateIntegerKey(0)).GetUniformHashCode());

    [Fact]
    public void Parse_splits_on_the_first_slash_and_round_trips()
    {
        var id = GrainId.Create(GrainType.Create("my-remindable-grain"), GrainIdKeyExtensions.CreateGuidKey(Guid.Parse("4642c886-44b8-37d3-08c9-e139e4af937b"), "foo/bar\\#baz?"));
        Assert.Equal("my-remindable-grain/4642c88644b837d308c9e139e4af937b+foo/bar\\#baz?", id.ToString());
        var parsed = GrainId.Parse(id.ToString());
        Assert.Equal(id, parsed);
        Assert.Equal("my-remindable-grain", parsed.Type.ToString());
        Assert.False(GrainId.TryParse("no-slash", out _));
    }

    [Fact]
    public void Key_extensions_format_like_Orleans()
    {
        Assert.Equal("FF", GrainIdKeyExtensions.CreateIntegerKey(255).ToString());
        Assert.Equal("FFFFFFFFFFFFFFFF", GrainIdKeyExtensions.CreateIntegerKey(-1).ToString());
        Assert.Equal("A+ext", GrainIdKeyExtensions.CreateIntegerKey(10, "ext").ToString());
        var g = Guid.NewGuid();
        Assert.Equal(g.ToString("N"), GrainIdKeyExtensions.CreateGuidKey(g).ToString());
        Assert.Equal(g.ToString("N") + "+x", GrainIdKeyExtensions.CreateGuidKey(g, "x").ToString());
    }

    [Fact]
    public void Equality_is_by_type_and_key_bytes()
    {
        Assert.Equal(GrainId.Create("a", "b"), GrainId.Create("a", "b"));
        Assert.NotEqual(GrainId.Create("a", "b/c"), GrainId.Create("a/b", "c"));
        Assert.True(GrainId.Create("a", "b").CompareTo(GrainId.Create("a", "c")) < 0);
    }
}

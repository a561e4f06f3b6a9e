namespace CacheProvider.Grains.Tests.Support;

/// <summary>Orleans' TestState1: value equality.</summary>
public sealed record TestState1
{
    public string? A { get; set; }

    public int B { get; set; }

    public long C { get; set; }
}

namespace CacheProvider.Grains.Tests.Support;

/// <summary>Orleans' TestStateGeneric1.</summary>
public sealed record TestStateGeneric1<T>
{
    public T? SomeData { get; set; }

    public string? A { get; set; }

    public int B { get; set; }

    public int C { get; set; }
}

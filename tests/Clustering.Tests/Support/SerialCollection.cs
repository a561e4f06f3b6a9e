namespace CacheProvider.Clustering.Tests.Support;

/// <summary>
/// Tests that time elections or stall a server: run them alone, so a small shared machine does not stretch their
/// timeouts with other classes' silos.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialCollection
{
    public const string Name = "serial";
}

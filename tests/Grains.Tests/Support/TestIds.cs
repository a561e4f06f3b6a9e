using CacheProvider.Grains.Contracts;

namespace CacheProvider.Grains.Tests.Support;

/// <summary>Grain ids as Orleans' test kit builds them.</summary>
internal static class TestIds
{
    public static GrainId Integer(long id) => GrainId.Create(GrainType.Create("my-grain-type"), GrainIdKeyExtensions.CreateIntegerKey(id));

    public static GrainId String(string id) => GrainId.Create("my-grain-type", id);

    public static GrainId RandomInteger() => Integer(Random.Shared.NextInt64());
}

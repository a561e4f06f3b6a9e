using Orleans;
using Orleans.Runtime;
using Orleans.Storage;

namespace CacheProvider.Grains.Tests.Support;

/// <summary>Grain ids as Orleans' test kit builds them.</summary>
internal static class TestIds
{
    public static GrainId Integer(long id) => GrainId.Create(GrainType.Create("my-grain-type"), GrainIdKeyExtensions.CreateIntegerKey(id));

    public static GrainId String(string id) => GrainId.Create("my-grain-type", id);

    /// <summary>An id from raw type and key strings, empty ones included (real ids can have an empty key; GrainId.Create refuses one).</summary>
    public static GrainId Raw(string type, string key) => new(new GrainType(System.Text.Encoding.UTF8.GetBytes(type)), new IdSpan(System.Text.Encoding.UTF8.GetBytes(key)));

    public static GrainId RandomInteger() => Integer(Random.Shared.NextInt64());
}

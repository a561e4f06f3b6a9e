using CacheProvider.Grains.Tests.Support;
using Orleans.Runtime;

namespace CacheProvider.Grains.Tests.Keys;

/// <summary>The public key scheme computes exactly the storage's keys, and parses them back.</summary>
public sealed class NatsGrainStateKeysTests
{
    [Theory]
    [InlineData("svc", "cache", "cache", "user:42")]
    [InlineData("svc/foo", "st.ate", "t.x", "a.b.*.>")]
    [InlineData("Привет", "", "t", "")]
    [InlineData("svc", "cache", "cache", "_002E")]
    public async Task Keys_are_the_storage_keys_and_parse_back(string serviceId, string stateName, string grainType, string grainKey)
    {
        await using var connection = GrainsTestHost.UnusedConnection();
        var storage = new NatsGrainStorage("n", new NatsGrainStorageOptions { ServiceId = serviceId }, connection);
        var id = TestIds.Raw(grainType, grainKey);

        var key = NatsGrainStateKeys.GetStateKey(serviceId, stateName, id);
        Assert.Equal(storage.GetStateKey(stateName, id), key);
        Assert.Equal(key, NatsGrainStateKeys.GetGrainTypePrefix(serviceId, stateName, id.Type) + NatsGrainStateKeys.EncodeToken(id.Key.ToString()!));

        Assert.True(NatsGrainStateKeys.TryParse(key, out var parsed));
        Assert.Equal(new NatsGrainStateKey(serviceId, stateName, grainType, grainKey), parsed);
    }

    [Fact]
    public void A_hashed_grain_key_parses_with_a_null_grain_key()
    {
        var id = TestIds.Raw("cache", new string('ä', NatsGrainStateKeys.MaxTokenLength));
        var key = NatsGrainStateKeys.GetStateKey("svc", "cache", id);
        Assert.StartsWith("=", key.Split('.')[3], StringComparison.Ordinal);

        Assert.True(NatsGrainStateKeys.TryParse(key, out var parsed));
        Assert.Equal(("svc", "cache", "cache"), (parsed.ServiceId, parsed.StateName, parsed.GrainType));
        Assert.Null(parsed.GrainKey);
    }

    [Theory]
    [InlineData("svc.cache.cache")]
    [InlineData("svc.cache.cache.k.extra")]
    [InlineData("svc.cache.cache.bad!")]
    [InlineData("svc.cache.cache._00")]
    [InlineData("=ABCD.cache.cache.k")]
    public void Keys_of_another_shape_do_not_parse(string kvKey) => Assert.False(NatsGrainStateKeys.TryParse(kvKey, out _));
}

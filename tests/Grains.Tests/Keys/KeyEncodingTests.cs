using System.Text;
using System.Text.RegularExpressions;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Internal;
using CacheProvider.Grains.Tests.Support;

namespace CacheProvider.Grains.Tests.Keys;

/// <summary>Injective, reversible key encoding of service ids, state names, grain ids and reminder names.</summary>
public sealed partial class KeyEncodingTests
{
    [GeneratedRegex("^[-/_=.a-zA-Z0-9]+$")]
    private static partial Regex ValidKey();

    [Theory]
    [InlineData("")]
    [InlineData("plain-Name/0")]
    [InlineData("foo/bar\\#baz?")]
    [InlineData("a+b c,d=e#f?g\\h")]
    [InlineData("Привет, мир")]
    [InlineData("你好")]
    [InlineData("a.b.*.>")]
    [InlineData("_")]
    [InlineData("_0041")]
    [InlineData("UnitTests.Grains.Foo`1[[System.Guid, System.Private.CoreLib, Version=10.0.0.0, Culture=neutral, PublicKeyToken=7cec85d7bea7798e]], Tests, Version=1.0.0.0")]
    public void Token_round_trips_and_uses_only_KV_key_characters_without_dots(string value)
    {
        var token = KeyEncoder.EncodeToken(value);
        Assert.Matches(ValidKey(), token);
        Assert.DoesNotContain('.', token);
        Assert.True(KeyEncoder.TryDecodeToken(token, out var decoded));
        Assert.Equal(value, decoded);
    }

    [Fact]
    public void Random_strings_never_collide_and_always_decode()
    {
        var random = new Random(12345);
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < 20_000; i++)
        {
            var value = RandomString(random);
            var token = KeyEncoder.EncodeToken(value);
            Assert.True(KeyEncoder.TryDecodeToken(token, out var decoded));
            Assert.Equal(value, decoded);
            if (seen.TryGetValue(token, out var other))
            {
                Assert.Equal(other, value);
            }

            seen[token] = value;
        }
    }

    [Fact]
    public async Task Different_state_keys_never_collide_across_random_service_state_and_grain_ids()
    {
        var random = new Random(777);
        await using var connection = GrainsTestHost.UnusedConnection();
        var seen = new Dictionary<string, (string, string, GrainId)>(StringComparer.Ordinal);
        var storages = new Dictionary<string, NatsGrainStorage>();
        for (var i = 0; i < 5_000; i++)
        {
            var service = Pick(random, ["svc", "svc/foo", "svc.foo", "svc_002E"]);
            if (!storages.TryGetValue(service, out var storage))
            {
                storage = new NatsGrainStorage("n", new NatsGrainStorageOptions { ServiceId = service }, connection);
                storages[service] = storage;
            }

            var stateName = Pick(random, ["state", "st.ate", "st_002Eate", "", RandomString(random)]);
            var id = TestIds.Raw(Pick(random, ["t", "t/x", "t.x", RandomString(random)]), Pick(random, ["k", "x/k", "", RandomString(random)]));
            var key = storage.GetStateKey(stateName, id);
            Assert.Matches(ValidKey(), key);
            if (seen.TryGetValue(key, out var prev))
            {
                Assert.Equal(prev, (service, stateName, id));
            }

            seen[key] = (service, stateName, id);
        }
    }

    [Fact]
    public async Task Firestore_collision_case_maps_to_different_reminder_keys()
    {
        await using var connection = GrainsTestHost.UnusedConnection();
        var table = new NatsReminderTable(new NatsReminderTableOptions { ServiceId = "s" }, connection);
        Assert.NotEqual(table.RowKey(GrainId.Parse("b__c/d"), "a"), table.RowKey(GrainId.Parse("c/d"), "a__b"));
        Assert.NotEqual(table.RowKey(GrainId.Create("a", "b.c"), "d"), table.RowKey(GrainId.Create("a", "b"), "c.d"));
    }

    [Fact]
    public void Overlong_tokens_are_hashed_distinctly_and_keep_keys_short()
    {
        var a = new string('Ж', 2000);
        var b = new string('Ж', 1999) + "Ё";
        var ta = KeyEncoder.EncodeToken(a);
        var tb = KeyEncoder.EncodeToken(b);
        Assert.StartsWith("=", ta);
        Assert.Equal(65, ta.Length);
        Assert.NotEqual(ta, tb);
        Assert.False(KeyEncoder.TryDecodeToken(ta, out _));
    }

    private static T Pick<T>(Random random, T[] items) => items[random.Next(items.Length)];

    private static string RandomString(Random random)
    {
        var length = random.Next(0, 12);
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append(random.Next(4) switch
            {
                0 => (char)random.Next(0x20, 0x7F),
                1 => "/+\\#?,= ._*>"[random.Next(12)],
                2 => (char)random.Next(0x400, 0x500),
                _ => (char)random.Next(0, 0x10000),
            });
        }

        return builder.ToString();
    }
}

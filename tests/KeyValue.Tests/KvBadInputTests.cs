using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>Bad input is refused on the client, with exceptions that name the culprit, and never hurts the connection.</summary>
public sealed class KvBadInputTests(ITestOutputHelper output)
{
    public static TheoryData<string> BadKeys() => ["has space", "a*b", "*", "a.*", ">", "a.>", ".lead", "trail.", "a..b", "", "ключ", "café", "tab\tkey", "new\nline"];

    public static TheoryData<string> BadBuckets() => ["", "with space", "dot.ted", "star*", "gt>", "slash/", "ümlaut"];

    [Fact]
    public async Task Keys_up_to_the_documented_length_work_and_longer_ones_are_refused_before_sending()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var longest = "k." + new string('a', KvBucket.MaxKeyLength - 2);
        await bucket.PutAsync(longest, Bytes("v"), TimeSpan.FromSeconds(30));
        Assert.Equal("v", Text(await bucket.GetAsync(longest)));
        Assert.Equal("v", Text(await bucket.GetAsync(longest, KvReadMode.Leader)));
        Assert.Equal([longest], await bucket.KeysAsync("k.>").ToListAsync());

        var tooLong = longest + "a";
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await bucket.PutAsync(tooLong, Bytes("v")));
        Assert.Equal("key", ex.ParamName);
        Assert.Contains(KvBucket.MaxKeyLength.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(async () => await bucket.GetAsync(tooLong));
        await Assert.ThrowsAsync<ArgumentException>(async () => await bucket.CreateAsync(tooLong, Bytes("v")));
        await Assert.ThrowsAsync<ArgumentException>(async () => await bucket.DeleteAsync(tooLong));
        Assert.Equal(NatsConnectionState.Open, h.Connection.ConnectionState);
        Assert.Equal(0, h.Disconnects);
    }

    [Theory]
    [MemberData(nameof(BadKeys))]
    public async Task Invalid_keys_are_refused_by_every_operation_naming_the_key(string key)
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var calls = new Func<Task>[]
        {
            async () => await bucket.PutAsync(key, Bytes("v")),
            async () => await bucket.CreateAsync(key, Bytes("v")),
            async () => await bucket.UpdateAsync(key, Bytes("v"), 1),
            async () => await bucket.DeleteAsync(key),
            async () => await bucket.PurgeAsync(key),
            async () => await bucket.GetAsync(key),
            async () => await bucket.GetLastAsync(key, KvReadMode.Leader),
            async () => await bucket.HistoryAsync(key).ToListAsync(),
        };
        foreach (var call in calls)
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(call);
            if (key.Length > 0)
            {
                Assert.Contains($"'{key}'", ex.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("empty", ex.Message, StringComparison.Ordinal);
            }
        }

        Assert.Equal(0UL, (await bucket.GetStatusAsync()).Values);
        Assert.Equal(NatsConnectionState.Open, h.Connection.ConnectionState);
    }

    [Fact]
    public async Task Null_key_is_an_argument_null_exception()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await bucket.PutAsync(null!, Bytes("v")));
    }

    [Theory]
    [InlineData("a.*")]
    [InlineData("*.b")]
    [InlineData(">")]
    [InlineData("a.>")]
    public async Task Wildcards_are_accepted_in_watch_and_keys_filters(string filter)
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        Assert.Empty(await bucket.KeysAsync(filter).ToListAsync());
    }

    [Theory]
    [InlineData("a>")]
    [InlineData(">.a")]
    [InlineData("a b.*")]
    [InlineData("a..*")]
    public async Task Malformed_filters_are_refused(string filter)
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await bucket.KeysAsync(filter).ToListAsync());
        Assert.Contains($"'{filter}'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BadBuckets))]
    public async Task Invalid_bucket_names_are_refused_naming_the_bucket(string name)
    {
        await using var h = await KvHarness.StartAsync(output);
        foreach (var call in new Func<Task>[]
        {
            async () => await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = name }),
            async () => await h.Kv.GetBucketAsync(name),
            async () => await h.Kv.GetStatusAsync(name),
            async () => await h.Kv.DeleteBucketAsync(name),
        })
        {
            var ex = await Assert.ThrowsAsync<ArgumentException>(call);
            Assert.Contains(name.Length == 0 ? "empty" : $"'{name}'", ex.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(999)]
    [InlineData(-5000)]
    public async Task Ttl_below_one_second_is_out_of_range_for_put_create_update_and_purge(int milliseconds)
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var ttl = TimeSpan.FromMilliseconds(milliseconds);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await bucket.PutAsync("k", Bytes("v"), ttl));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await bucket.CreateAsync("k", Bytes("v"), ttl));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await bucket.UpdateAsync("k", Bytes("v"), 0, ttl));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await bucket.PurgeAsync("k", ttl));
        Assert.Equal(0UL, (await bucket.GetStatusAsync()).Values);
    }

    [Fact]
    public async Task Value_over_the_bucket_max_value_size_is_refused_before_sending()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "small", MaxValueSize = 1024, LimitMarkerTtl = TimeSpan.FromSeconds(2) });
        var ex = await Assert.ThrowsAsync<KvValueTooLargeException>(async () => await bucket.PutAsync("k", new byte[1025]));
        Assert.Equal(1024, ex.Limit);
        Assert.Equal("small", ex.Bucket);

        // With a TTL the header counts too, as the server counts it.
        await Assert.ThrowsAsync<KvValueTooLargeException>(async () => await bucket.PutAsync("k", new byte[1020], TimeSpan.FromSeconds(5)));

        // Exactly at the limit (no headers) is accepted by client and server alike.
        await bucket.PutAsync("k", new byte[1024]);
        Assert.Equal(1024, (await bucket.GetAsync("k"))!.ValueLength);
        Assert.Equal(NatsConnectionState.Open, h.Connection.ConnectionState);
        Assert.Equal(0, h.Disconnects);
    }

    [Fact]
    public async Task Value_over_the_server_max_payload_is_refused_before_sending_and_the_connection_stays_up()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        var maxPayload = h.Connection.ServerInfo!.MaxPayload;
        var ex = await Assert.ThrowsAsync<NatsPayloadTooLargeException>(async () => await bucket.PutAsync("k", new byte[maxPayload + 1]));
        Assert.Contains(maxPayload.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<NatsPayloadTooLargeException>(async () => await bucket.CreateAsync("k", new byte[maxPayload]));

        Assert.Equal(NatsConnectionState.Open, h.Connection.ConnectionState);
        Assert.Equal(0, h.Disconnects);
        await bucket.PutAsync("k", Bytes("fine"));
        Assert.Equal("fine", Text(await bucket.GetAsync("k")));
    }
}

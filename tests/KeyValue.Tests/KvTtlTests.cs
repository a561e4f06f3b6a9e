using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

/// <summary>Per-key TTL on put: rounding, "never", history rules and replacement.</summary>
public sealed class KvTtlTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(1.0, "1")]
    [InlineData(1.2, "2")]
    [InlineData(1.9, "2")]
    [InlineData(90, "90")]
    public async Task Put_ttl_is_rounded_up_to_whole_seconds_in_the_stored_header(double seconds, string header)
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("k", Bytes("v"), TimeSpan.FromSeconds(seconds));
        var stored = await bucket.GetLastAsync("k", KvReadMode.Leader);
        Assert.NotNull(stored);
        Assert.Equal(header, stored.Headers!["Nats-TTL"].ToString());
    }

    [Fact]
    public async Task Ttl_never_survives_the_bucket_max_age()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "aged", MaxAge = TimeSpan.FromSeconds(1), LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        await bucket.PutAsync("forever", Bytes("stays"), Timeout.InfiniteTimeSpan);
        await bucket.PutAsync("mortal", Bytes("goes"));
        var stored = await bucket.GetLastAsync("forever", KvReadMode.Leader);
        Assert.Equal("never", stored!.Headers!["Nats-TTL"].ToString());

        await EventuallyAsync(async () => await bucket.GetAsync("mortal", KvReadMode.Leader) is null, "max_age expires the plain value");
        var e = await bucket.GetAsync("forever", KvReadMode.Leader);
        Assert.Equal("stays", Text(e));
        Assert.Equal(Timeout.InfiniteTimeSpan, e!.Ttl);
        Assert.Null(e.ExpiresAt);
    }

    [Fact]
    public async Task Put_with_ttl_on_a_bucket_with_history_is_refused()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 5, LimitMarkerTtl = TimeSpan.FromSeconds(2) });
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await bucket.PutAsync("k", Bytes("v"), TimeSpan.FromSeconds(5)));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await bucket.CreateAsync("k", Bytes("v"), TimeSpan.FromSeconds(5)));
        Assert.Null(await bucket.GetLastAsync("k"));

        // Without a TTL the history bucket works as usual.
        await bucket.PutAsync("k", Bytes("v"));
    }

    [Fact]
    public async Task Later_put_replaces_the_ttl_and_the_old_deadline_does_not_expire_the_key()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(1));
        await bucket.PutAsync("k", Bytes("short"), TimeSpan.FromSeconds(1));
        var rev = await bucket.PutAsync("k", Bytes("long"), TimeSpan.FromSeconds(60));
        await Task.Delay(1800); // past the first deadline plus a server sweep
        var e = await bucket.GetLastAsync("k", KvReadMode.Leader);
        Assert.Equal(rev, e!.Revision);
        Assert.Equal("long", Text(e));

        // And a put without TTL removes the deadline altogether.
        await bucket.PutAsync("j", Bytes("short"), TimeSpan.FromSeconds(1));
        await bucket.PutAsync("j", Bytes("kept"));
        await Task.Delay(1800);
        Assert.Equal("kept", Text(await bucket.GetAsync("j", KvReadMode.Leader)));
    }

    [Fact]
    public async Task Ttl_key_expires_on_the_server_even_for_readers_without_a_clock_check()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync(markerTtl: TimeSpan.FromSeconds(1));
        await bucket.PutAsync("k", Bytes("v"), TimeSpan.FromSeconds(1));
        await EventuallyAsync(async () => (await bucket.GetLastAsync("k", KvReadMode.Leader))?.Headers?["Nats-Marker-Reason"].ToString() == "MaxAge", "marker replaced the value");

        // The marker expires by itself too, leaving the key with nothing at all.
        await EventuallyAsync(async () => (await bucket.GetStatusAsync()).Values == 0, "marker expired");
    }
}

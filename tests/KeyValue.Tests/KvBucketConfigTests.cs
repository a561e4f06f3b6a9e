using CacheProvider.KeyValue;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests;

public sealed class KvBucketConfigTests(ITestOutputHelper output)
{
    [Fact]
    public async Task New_bucket_defaults_to_history_1_file_storage_and_no_ttl()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "plain" });
        Assert.Equal(1, bucket.History);
        Assert.False(bucket.AllowsTtl);
        var c = bucket.Info.Config;
        Assert.Equal("KV_plain", c.Name);
        Assert.Equal(["$KV.plain.>"], c.Subjects);
        Assert.True(c.AllowDirect);
        Assert.True(c.AllowRollupHdrs);
        Assert.Equal(StreamConfigDiscard.New, c.Discard);
        Assert.Equal(StreamConfigStorage.File, c.Storage);
        Assert.Equal(TimeSpan.Zero, c.SubjectDeleteMarkerTTL);

        var status = await h.Kv.GetStatusAsync("plain");
        Assert.Equal(1, status.History);
        Assert.Equal(KvStorage.File, status.Storage);
        Assert.False(status.AllowMsgTtl);
        Assert.Equal(TimeSpan.Zero, status.LimitMarkerTtl);
        Assert.Equal(["plain"], await h.Kv.ListBucketNamesAsync().ToListAsync());
    }

    [Fact]
    public async Task Limits_storage_compression_description_and_metadata_reach_the_stream()
    {
        await using var h = await KvHarness.StartAsync(output);
        await h.Kv.CreateBucketAsync(new KvBucketConfig
        {
            Bucket = "tuned",
            Description = "sessions",
            History = 5,
            MaxAge = TimeSpan.FromHours(1),
            MaxBytes = 1 << 20,
            MaxValueSize = 4096,
            Storage = KvStorage.Memory,
            Compression = false,
            Metadata = new Dictionary<string, string> { ["team"] = "cache" },
        });
        var status = await h.Kv.GetStatusAsync("tuned");
        var c = status.StreamInfo.Config;
        Assert.Equal("sessions", c.Description);
        Assert.Equal(5, status.History);
        Assert.Equal(TimeSpan.FromHours(1), status.MaxAge);
        Assert.Equal(1 << 20, c.MaxBytes);
        Assert.Equal(4096, c.MaxMsgSize);
        Assert.Equal(KvStorage.Memory, status.Storage);
        Assert.Equal("cache", c.Metadata!["team"]);

        // Compression is a file-store feature.
        await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "packed", Compression = true });
        Assert.Equal(StreamConfigCompression.S2, (await h.Kv.GetStatusAsync("packed")).StreamInfo.Config.Compression);
    }

    [Fact]
    public async Task Limit_marker_ttl_turns_on_per_key_ttl_and_is_reported_in_status()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync("m", TimeSpan.FromSeconds(3));
        Assert.True(bucket.AllowsTtl);
        var status = await bucket.GetStatusAsync();
        Assert.Equal(TimeSpan.FromSeconds(3), status.LimitMarkerTtl);
        Assert.True(status.AllowMsgTtl);
    }

    [Fact]
    public async Task Limit_marker_ttl_below_one_second_is_rejected_before_asking_the_server()
    {
        await using var h = await KvHarness.StartAsync(output);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () =>
            await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "m", LimitMarkerTtl = TimeSpan.FromMilliseconds(500) }));
        await Assert.ThrowsAsync<NatsJSApiException>(async () => await h.Kv.GetStatusAsync("m"));
    }

    [Fact]
    public async Task Markers_can_be_enabled_on_an_existing_bucket_but_allow_msg_ttl_never_disabled()
    {
        await using var h = await KvHarness.StartAsync(output);
        var config = new KvBucketConfig { Bucket = "late" };
        await h.Kv.CreateBucketAsync(config);
        var updated = await h.Kv.UpdateBucketAsync(config with { LimitMarkerTtl = TimeSpan.FromSeconds(2) });
        Assert.True(updated.AllowsTtl);
        Assert.Equal(TimeSpan.FromSeconds(2), (await updated.GetStatusAsync()).LimitMarkerTtl);

        // The marker TTL can be removed while keeping per-key TTL ...
        var noMarkers = await h.Kv.UpdateBucketAsync(config with { AllowMsgTtl = true });
        Assert.Equal(TimeSpan.Zero, (await noMarkers.GetStatusAsync()).LimitMarkerTtl);
        Assert.True(noMarkers.AllowsTtl);

        // ... but per-key TTL itself can never be switched off.
        var ex = await Assert.ThrowsAsync<NatsJSApiException>(async () => await h.Kv.UpdateBucketAsync(config));
        Assert.Equal(JetStreamErrorCodes.InvalidConfig, ex.Error.ErrCode);
    }

    [Fact]
    public async Task Status_counts_values_bytes_and_interior_deletes()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync();
        await bucket.PutAsync("pin", Bytes("first")); // pins first_seq so later removals are interior deletes
        for (var i = 0; i < 5; i++)
        {
            await bucket.PutAsync("churn", Bytes($"v{i}"));
        }

        var status = await bucket.GetStatusAsync();
        Assert.Equal(2UL, status.Values);
        Assert.True(status.Bytes > 0);
        Assert.Equal(4, status.NumDeleted); // four superseded revisions of "churn"
    }

    [Fact]
    public async Task Binding_a_missing_bucket_is_10059_and_deleting_removes_it()
    {
        await using var h = await KvHarness.StartAsync(output);
        var ex = await Assert.ThrowsAsync<NatsJSApiException>(async () => await h.Kv.GetBucketAsync("ghost"));
        Assert.Equal(JetStreamErrorCodes.StreamNotFound, ex.Error.ErrCode);

        await h.TtlBucketAsync("gone");
        Assert.Equal("gone", (await h.Kv.GetBucketAsync("gone")).Bucket);
        Assert.True(await h.Kv.DeleteBucketAsync("gone"));
        Assert.Empty(await h.Kv.ListBucketNamesAsync().ToListAsync());
    }

    [Fact]
    public async Task Creating_an_identical_bucket_again_binds_it_and_a_different_one_is_refused()
    {
        await using var h = await KvHarness.StartAsync(output);
        var config = new KvBucketConfig { Bucket = "same", LimitMarkerTtl = TimeSpan.FromSeconds(2) };
        await h.Kv.CreateBucketAsync(config);
        var again = await h.Kv.CreateBucketAsync(config);
        Assert.Equal("same", again.Bucket);
        var ex = await Assert.ThrowsAsync<NatsJSApiException>(async () => await h.Kv.CreateBucketAsync(config with { History = 3 }));
        Assert.Equal(JetStreamErrorCodes.StreamNameInUse, ex.Error.ErrCode);
    }

    [Fact]
    public async Task AllowMsgTtl_false_with_a_limit_marker_ttl_is_refused_before_any_request()
    {
        // Nothing listens on this port: any request would fail with a connection error, not a configuration error.
        await using var nowhere = new NatsConnection(TestNats.Options($"nats://127.0.0.1:{NatsServer.FreePort()}"));
        var kv = new KvContext(nowhere);
        var config = new KvBucketConfig { Bucket = "contradiction", AllowMsgTtl = false, LimitMarkerTtl = TimeSpan.FromSeconds(5) };

        var create = await Assert.ThrowsAsync<ArgumentException>(async () => await kv.CreateBucketAsync(config));
        Assert.Contains(nameof(KvBucketConfig.AllowMsgTtl), create.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(KvBucketConfig.LimitMarkerTtl), create.Message, StringComparison.Ordinal);
        Assert.Equal("config", create.ParamName);
        await Assert.ThrowsAsync<ArgumentException>(async () => await kv.UpdateBucketAsync(config));
        Assert.NotEqual(NatsConnectionState.Open, nowhere.ConnectionState);

        // Either setting alone stays valid.
        await using var h = await KvHarness.StartAsync(output);
        Assert.False((await h.Kv.CreateBucketAsync(config with { LimitMarkerTtl = TimeSpan.Zero })).AllowsTtl);
        Assert.True((await h.Kv.CreateBucketAsync(config with { Bucket = "markers", AllowMsgTtl = null })).AllowsTtl);
    }
}

using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;
using CacheProvider.KeyValue;

namespace CacheProvider.Grains.Tests.Storage;

/// <summary>Per-state TTL: Nats-TTL on every write, resolution order, expiry, and renewal at most once per fraction.</summary>
public sealed class StateTtlTests(ITestOutputHelper output)
{
    [StateTtl("00:05:00")]
    public sealed record AttributedState
    {
        public int V { get; set; }
    }

    [Fact]
    public async Task Every_write_and_retained_tombstone_carries_the_states_TTL()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false, o => o.StateTtls["session"] = TimeSpan.FromSeconds(90));
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1());
        await storage.WriteStateAsync("session", id, state);
        var bucket = await storage.GetBucketAsync(default);
        var key = storage.GetStateKey("session", id);
        Assert.Equal(TimeSpan.FromSeconds(90), (await bucket.GetLastAsync(key))!.Ttl);
        await storage.WriteStateAsync("session", id, state);
        Assert.Equal(TimeSpan.FromSeconds(90), (await bucket.GetLastAsync(key))!.Ttl);
        await storage.ClearStateAsync("session", id, state);
        Assert.Equal(TimeSpan.FromSeconds(90), (await bucket.GetLastAsync(key))!.Ttl);
        await storage.WriteStateAsync("other", id, new GrainState<TestState1>(new TestState1()));
        Assert.Null((await bucket.GetLastAsync(storage.GetStateKey("other", id)))!.Ttl);
    }

    [Fact]
    public async Task TTL_resolution_is_state_name_then_type_attribute_then_default_and_rounds_up_to_seconds()
    {
        await using var connection = GrainsTestHost.UnusedConnection();
        var options = new NatsGrainStorageOptions { ServiceId = "s", DefaultStateTtl = TimeSpan.FromMinutes(1) };
        options.StateTtls["named"] = TimeSpan.FromSeconds(10);
        var storage = new NatsGrainStorage("n", options, connection);
        Assert.Equal(TimeSpan.FromSeconds(10), storage.GetStateTtl<AttributedState>("named"));
        Assert.Equal(TimeSpan.FromMinutes(5), storage.GetStateTtl<AttributedState>("state"));
        Assert.Equal(TimeSpan.FromMinutes(1), storage.GetStateTtl<TestState1>("state"));
        var resolver = new Internal.StateTtlResolver(new NatsGrainStorageOptions { RefreshTtlOnRead = true, RenewalFraction = 0.25 });
        Assert.Equal(TimeSpan.FromSeconds(13), resolver.ToStoredTtl(TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(2), new Internal.StateTtlResolver(new NatsGrainStorageOptions()).ToStoredTtl(TimeSpan.FromMilliseconds(1100)));
    }

    [Fact]
    public async Task Expired_state_reads_as_never_written_and_a_stale_ETag_write_then_conflicts()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false, o => o.DefaultStateTtl = TimeSpan.FromSeconds(1));
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "short" });
        await storage.WriteStateAsync("s", id, state);
        await Task.Delay(TimeSpan.FromSeconds(1.6));
        var read = new GrainState<TestState1>(new TestState1());
        await storage.ReadStateAsync("s", id, read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("s", id, state));
        var fresh = new GrainState<TestState1>(new TestState1 { A = "new" });
        await storage.WriteStateAsync("s", id, fresh);
        Assert.True(fresh.RecordExists);
    }

    /// <summary>A state with its own TTL (<see cref="IStateTimeToLive"/>).</summary>
    public sealed record OwnTtlState : IStateTimeToLive
    {
        public string? A { get; set; }

        public int TtlSeconds { get; set; }

        [System.Text.Json.Serialization.JsonIgnore]
        public TimeSpan? TimeToLive => TtlSeconds > 0 ? TimeSpan.FromSeconds(TtlSeconds) : null;
    }

    [Fact]
    public async Task With_refresh_on_read_a_states_own_TTL_is_its_window_and_reads_renew_it_with_that_TTL()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var clock = new OffsetTimeProvider();
        var storage = host.CreateStorage(false, o =>
        {
            o.DefaultStateTtl = TimeSpan.FromMinutes(10);
            o.RefreshTtlOnRead = true;
            o.RenewalFraction = 0.5;
        }, time: clock);
        var bucket = await storage.GetBucketAsync(default);
        var shortId = TestIds.RandomInteger();
        var configuredId = TestIds.RandomInteger();
        await storage.WriteStateAsync("s", shortId, new GrainState<OwnTtlState>(new OwnTtlState { A = "own", TtlSeconds = 40 }));
        await storage.WriteStateAsync("s", configuredId, new GrainState<OwnTtlState>(new OwnTtlState { A = "configured" }));
        Assert.Equal(TimeSpan.FromSeconds(60), (await bucket.GetLastAsync(storage.GetStateKey("s", shortId)))!.Ttl);
        Assert.Equal(TimeSpan.FromMinutes(15), (await bucket.GetLastAsync(storage.GetStateKey("s", configuredId)))!.Ttl);

        // 39 s left < its own 40 s window: renewed with its own TTL; the configured state (14.65 min left > 10 min) is not.
        clock.Offset = TimeSpan.FromSeconds(21);
        var read = new GrainState<OwnTtlState>();
        await storage.ReadStateAsync("s", shortId, read);
        Assert.Equal("own", read.State!.A);
        await storage.ReadStateAsync("s", configuredId, new GrainState<OwnTtlState>());
        Assert.Equal(1, storage.Renewals);
        Assert.Equal(TimeSpan.FromSeconds(60), (await bucket.GetLastAsync(storage.GetStateKey("s", shortId), KvReadMode.Leader))!.Ttl);
        Assert.Equal(read.ETag, (await bucket.GetLastAsync(storage.GetStateKey("s", shortId), KvReadMode.Leader))!.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Reads_renew_the_TTL_only_when_less_than_the_window_remains()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var clock = new OffsetTimeProvider();
        var storage = host.CreateStorage(false, o =>
        {
            o.DefaultStateTtl = TimeSpan.FromSeconds(40);
            o.RefreshTtlOnRead = true;
            o.RenewalFraction = 0.5;
        }, time: clock);
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1 { A = "busy" });
        await storage.WriteStateAsync("s", id, state); // stored TTL 60 s
        var read = new GrainState<TestState1>(new TestState1());
        for (var i = 0; i < 5; i++)
        {
            await storage.ReadStateAsync("s", id, read);
        }

        Assert.Equal(0, storage.Renewals);
        Assert.Equal(state.ETag, read.ETag);

        clock.Offset = TimeSpan.FromSeconds(21); // 39 s left < 40 s window
        await storage.ReadStateAsync("s", id, read);
        Assert.Equal(1, storage.Renewals);
        Assert.NotEqual(state.ETag, read.ETag);
        Assert.Equal("busy", read.State!.A);

        // Up to a fraction (20 s) after the renewal, reads do not renew again.
        clock.Offset = TimeSpan.FromSeconds(19);
        for (var i = 0; i < 5; i++)
        {
            await storage.ReadStateAsync("s", id, read);
        }

        Assert.Equal(1, storage.Renewals);
        var bucket = await storage.GetBucketAsync(default);
        Assert.Equal(TimeSpan.FromSeconds(60), (await bucket.GetLastAsync(storage.GetStateKey("s", id), KvReadMode.Leader))!.Ttl);

        // The renewed ETag is the one to write with.
        read.State = read.State with { B = 1 };
        await storage.WriteStateAsync("s", id, read);
    }
}

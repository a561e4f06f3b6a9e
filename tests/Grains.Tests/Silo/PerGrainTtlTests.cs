using CacheProvider.KeyValue;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>
/// Per-grain TTL (<see cref="IStateTimeToLive"/>) in a real silo: grains of one type whose states live for different
/// times, the fallback to the configured TTL, "never", refused TTLs and retained tombstones.
/// </summary>
public sealed class PerGrainTtlTests(SiloFixture fixture) : IClassFixture<SiloFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private ITimedGrain NewGrain() => fixture.Cluster.Client.GetGrain<ITimedGrain>(Guid.NewGuid().ToString("N"));

    private NatsGrainStorage SiloStorage => fixture.SiloServices.GetRequiredKeyedService<NatsGrainStorage>(SiloFixture.StorageName);

    private async Task<KvEntry?> RawAsync(ITimedGrain grain)
    {
        var bucket = await new KvContext(fixture.Connection).GetBucketAsync(SiloFixture.StateBucket);
        return await bucket.GetLastAsync(SiloStorage.GetStateKey(TimedGrain.StateName, grain.GetGrainId()), KvReadMode.Leader);
    }

    [Fact]
    public async Task Two_grains_of_one_type_with_different_TTLs_expire_at_their_own_times()
    {
        var brief = NewGrain();
        var lasting = NewGrain();
        await lasting.Write("lasting", TimeSpan.FromMinutes(10));
        var written = await brief.Write("brief", TimeSpan.FromSeconds(2));
        Assert.True(written.RecordExists);
        Assert.Equal(TimeSpan.FromSeconds(2), (await RawAsync(brief))!.Ttl);
        Assert.Equal(TimeSpan.FromMinutes(10), (await RawAsync(lasting))!.Ttl);

        // The brief one reads as never written once its own TTL has run out (ETag null, a fresh default state).
        var deadline = DateTime.UtcNow + Patience;
        StateView view;
        do
        {
            await Task.Delay(250);
            view = await brief.Reread();
        }
        while (view.RecordExists && DateTime.UtcNow < deadline);

        Assert.False(view.RecordExists, "the 2 s state did not expire");
        Assert.Null(view.ETag);
        Assert.Null(view.Value);
        var bucket = await new KvContext(fixture.Connection).GetBucketAsync(SiloFixture.StateBucket);
        Assert.Null(await bucket.GetAsync(SiloStorage.GetStateKey(TimedGrain.StateName, brief.GetGrainId())));

        // The other grain of the same type and state name is still there, with its own TTL.
        var other = await lasting.Reread();
        Assert.True(other.RecordExists);
        Assert.Equal("lasting", other.Value);
    }

    [Fact]
    public async Task A_null_TTL_falls_back_to_the_configured_one_and_infinite_overrides_it()
    {
        var configured = NewGrain();
        var never = NewGrain();
        await configured.Write("configured", null);
        await never.Write("never", Timeout.InfiniteTimeSpan);

        Assert.Equal(TimedGrain.ConfiguredTtl, SiloStorage.GetStateTtl<TimedState>(TimedGrain.StateName));
        Assert.Equal(TimedGrain.ConfiguredTtl, (await RawAsync(configured))!.Ttl);
        Assert.Null((await RawAsync(never))!.Ttl);
        Assert.Null(SiloStorage.GetStateTtl(TimedGrain.StateName, new TimedState { Ttl = Timeout.InfiniteTimeSpan }));
        Assert.Equal(TimeSpan.FromSeconds(7), SiloStorage.GetStateTtl(TimedGrain.StateName, new TimedState { Ttl = TimeSpan.FromSeconds(7) }));
    }

    [Fact]
    public async Task Each_write_uses_the_TTL_of_the_state_it_writes_rounded_up_to_whole_seconds()
    {
        var grain = NewGrain();
        await grain.Write("long", TimeSpan.FromMinutes(10));
        Assert.Equal(TimeSpan.FromMinutes(10), (await RawAsync(grain))!.Ttl);

        await grain.Write("shorter", TimeSpan.FromMilliseconds(1500));
        Assert.Equal(TimeSpan.FromSeconds(2), (await RawAsync(grain))!.Ttl);

        await grain.Write("sub-second", TimeSpan.FromMilliseconds(10));
        Assert.Equal(TimeSpan.FromSeconds(1), (await RawAsync(grain))!.Ttl);
    }

    [Fact]
    public async Task A_zero_or_negative_TTL_is_refused_before_anything_is_written()
    {
        var grain = NewGrain();
        var zero = await Assert.ThrowsAsync<OrleansException>(() => grain.Write("zero", TimeSpan.Zero));
        Assert.IsType<ArgumentOutOfRangeException>(zero.InnerException);
        Assert.Contains("IStateTimeToLive.TimeToLive", zero.InnerException!.Message);
        Assert.Null(await RawAsync(grain));

        var written = await grain.Write("kept", TimeSpan.FromMinutes(1));
        var negative = await Assert.ThrowsAsync<OrleansException>(() => grain.Write("negative", TimeSpan.FromSeconds(-5)));
        Assert.IsType<ArgumentOutOfRangeException>(negative.InnerException);
        var raw = await RawAsync(grain);
        Assert.Equal(written.ETag, raw!.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_retained_clear_tombstone_carries_the_TTL_of_the_state_it_clears()
    {
        var grain = NewGrain();
        await grain.Write("to clear", TimeSpan.FromMinutes(3));
        var cleared = await grain.Clear();
        Assert.False(cleared.RecordExists);
        Assert.NotNull(cleared.ETag); // the silo's storage retains tombstones (DeleteStateOnClear = false)

        var tombstone = await RawAsync(grain);
        Assert.NotNull(tombstone);
        Assert.False(tombstone.IsValue);
        Assert.Equal(TimeSpan.FromMinutes(3), tombstone.Ttl);
    }
}

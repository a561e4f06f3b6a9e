using System.Collections.Concurrent;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;

namespace CacheProvider.Grains.Tests.Watching;

/// <summary>Expiry-driven deactivation: one watch, registrations by state key, own writes ignored.</summary>
public sealed class GrainStateWatcherTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private sealed class Inbox
    {
        public readonly BlockingCollection<GrainStateChange> Changes = new();

        public static void Callback(GrainStateChange change, object? state) => ((Inbox)state!).Changes.Add(change);

        public GrainStateChange Next()
        {
            Assert.True(Changes.TryTake(out var change, Wait), "no notification");
            return change;
        }

        public void AssertNone(TimeSpan within) => Assert.False(Changes.TryTake(out var change, within), $"unexpected {change}");
    }

    [Fact]
    public async Task Expiry_marker_fires_Expired_for_the_registered_state()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false, o => o.StateTtls["s"] = TimeSpan.FromSeconds(1));
        await using var watcher = new GrainStateWatcher(storage);
        await watcher.StartAsync();
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1());
        await storage.WriteStateAsync("s", id, state);
        var inbox = new Inbox();
        using var registration = watcher.Register("s", id, state.ETag, Inbox.Callback, inbox);
        var change = inbox.Next();
        Assert.Equal(GrainStateChangeKind.Expired, change.Kind);
        Assert.Equal(storage.GetStateKey("s", id), change.StateKey);
    }

    [Fact]
    public async Task A_stop_out_of_time_returns_without_throwing_and_the_watcher_starts_again()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false, o => o.StateTtls["s"] = TimeSpan.FromSeconds(1));
        await using var watcher = new GrainStateWatcher(storage);
        await watcher.StartAsync();

        // What a killed silo's lifecycle passes: a token already cancelled.
        await watcher.StopAsync(new CancellationToken(canceled: true));

        await watcher.StartAsync();
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1());
        await storage.WriteStateAsync("s", id, state);
        var inbox = new Inbox();
        using var registration = watcher.Register("s", id, state.ETag, Inbox.Callback, inbox);
        Assert.Equal(GrainStateChangeKind.Expired, inbox.Next().Kind);
    }

    [Fact]
    public async Task Own_writes_and_clears_do_not_fire_but_another_silos_write_and_clear_do()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var mine = host.CreateStorage(false);
        var theirs = host.CreateStorage(false, connection: await host.NewConnectionAsync());
        await using var watcher = new GrainStateWatcher(mine);
        await watcher.StartAsync();
        var id = TestIds.RandomInteger();
        var state = new GrainState<TestState1>(new TestState1());
        await mine.WriteStateAsync("s", id, state);
        var inbox = new Inbox();
        using var registration = watcher.Register("s", id, state.ETag, Inbox.Callback, inbox);
        for (var i = 0; i < 20; i++)
        {
            state.State = state.State! with { B = i };
            await mine.WriteStateAsync("s", id, state);
        }

        await mine.ReadStateAsync("s", id, state);
        await mine.ClearStateAsync("s", id, state);
        await mine.WriteStateAsync("s", id, state);

        var other = new GrainState<TestState1>(new TestState1());
        await theirs.ReadStateAsync("s", id, other);
        await theirs.WriteStateAsync("s", id, other);
        var change = inbox.Next();
        Assert.Equal(GrainStateChangeKind.WrittenElsewhere, change.Kind);
        Assert.Equal(ulong.Parse(other.ETag!), change.Revision);

        await theirs.ClearStateAsync("s", id, other);
        Assert.Equal(GrainStateChangeKind.Removed, inbox.Next().Kind);
        inbox.AssertNone(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Only_the_changed_key_fires_among_thousands_of_registrations()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var mine = host.CreateStorage(true);
        var theirs = host.CreateStorage(true, connection: await host.NewConnectionAsync());
        await using var watcher = new GrainStateWatcher(mine);
        await watcher.StartAsync();
        var inbox = new Inbox();
        var registrations = new List<GrainStateWatchRegistration>();
        for (var i = 0; i < 5_000; i++)
        {
            registrations.Add(watcher.Register("s", TestIds.Integer(i), null, Inbox.Callback, inbox));
        }

        Assert.Equal(5_000, watcher.WatchedKeys);
        await theirs.WriteStateAsync("s", TestIds.Integer(4_321), new GrainState<TestState1>(new TestState1()));
        Assert.Equal(mine.GetStateKey("s", TestIds.Integer(4_321)), inbox.Next().StateKey);
        inbox.AssertNone(TimeSpan.FromMilliseconds(300));

        foreach (var r in registrations)
        {
            r.Dispose();
        }

        Assert.Equal(0, watcher.WatchedKeys);
        await theirs.WriteStateAsync("s", TestIds.Integer(1), new GrainState<TestState1>(new TestState1()));
        inbox.AssertNone(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task A_blocked_callback_does_not_hold_up_the_watch_or_other_callbacks()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var mine = host.CreateStorage(false);
        var theirs = host.CreateStorage(false, connection: await host.NewConnectionAsync());
        await using var watcher = new GrainStateWatcher(mine);
        await watcher.StartAsync();
        using var gate = new ManualResetEventSlim();
        using var slow = watcher.Register("s", TestIds.Integer(1), null, static (_, s) => ((ManualResetEventSlim)s!).Wait(TimeSpan.FromSeconds(20)), gate);
        var inbox = new Inbox();
        using var fast = watcher.Register("s", TestIds.Integer(2), null, Inbox.Callback, inbox);
        await theirs.WriteStateAsync("s", TestIds.Integer(1), new GrainState<TestState1>(new TestState1()));
        await theirs.WriteStateAsync("s", TestIds.Integer(2), new GrainState<TestState1>(new TestState1()));
        Assert.Equal(GrainStateChangeKind.WrittenElsewhere, inbox.Next().Kind);
        gate.Set();
    }

    [Fact]
    public async Task After_a_watch_gap_every_registered_key_is_rechecked_and_only_changed_keys_are_reported()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var storage = host.CreateStorage(false);
        await using var watcher = new GrainStateWatcher(storage, new GrainStateWatcherOptions { IdleHeartbeat = TimeSpan.FromMilliseconds(500), RetryDelay = TimeSpan.FromMilliseconds(100) });
        await watcher.StartAsync();
        var kept = new GrainState<TestState1>(new TestState1());
        var changed = new GrainState<TestState1>(new TestState1());
        await storage.WriteStateAsync("s", TestIds.Integer(1), kept);
        await storage.WriteStateAsync("s", TestIds.Integer(2), changed);
        var inbox = new Inbox();
        using var r1 = watcher.Register("s", TestIds.Integer(1), kept.ETag, Inbox.Callback, inbox);
        using var r2 = watcher.Register("s", TestIds.Integer(2), changed.ETag, Inbox.Callback, inbox);
        await host.Server.RestartAsync();

        var theirs = host.CreateStorage(false, connection: await host.NewConnectionAsync());
        await theirs.WriteStateAsync("s", TestIds.Integer(2), new GrainState<TestState1>(new TestState1()) { ETag = changed.ETag });
        var change = inbox.Next();
        Assert.Equal(GrainStateChangeKind.WrittenElsewhere, change.Kind);
        Assert.Equal(storage.GetStateKey("s", TestIds.Integer(2)), change.StateKey);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (watcher.Rechecks == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.True(watcher.Resyncs >= 1);
        Assert.True(watcher.Rechecks >= 1, "no re-check after the gap");
        Assert.Equal(1, r1.Notifications + r2.Notifications);
    }

    [Fact]
    public async Task Changes_made_right_after_start_are_not_missed()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var mine = host.CreateStorage(false);
        var theirs = host.CreateStorage(false, connection: await host.NewConnectionAsync());
        await theirs.StartAsync();
        await using var watcher = new GrainStateWatcher(mine);
        var inbox = new Inbox();
        using var r = watcher.Register("s", TestIds.Integer(9), null, Inbox.Callback, inbox);
        await watcher.StartAsync();
        await theirs.WriteStateAsync("s", TestIds.Integer(9), new GrainState<TestState1>(new TestState1()));
        Assert.Equal(GrainStateChangeKind.WrittenElsewhere, inbox.Next().Kind);
    }
}

using System.Diagnostics;
using CacheProvider.KeyValue;
using CacheProvider.Sessions;
using Microsoft.AspNetCore.Http;
using NATS.Client.Core;

namespace CacheProvider.Tests.Sessions;

/// <summary>The session near cache with two nodes (two stores, two connections) on one bucket.</summary>
public sealed class SessionNearCacheTests(ITestOutputHelper output) : IAsyncLifetime
{
    private NatsServer _server = null!;
    private NatsConnection _connectionA = null!;
    private NatsConnection _connectionB = null!;
    private NatsSessionStore _a = null!;
    private NatsSessionStore _b = null!;

    public async Task InitializeAsync()
    {
        _server = await NatsServer.StartAsync(output);
        _connectionA = await _server.ConnectAsync();
        _connectionB = await _server.ConnectAsync();
        var options = new NatsSessionStoreOptions { Bucket = "sessions", LimitMarkerTtl = TimeSpan.FromSeconds(1) };
        _a = new NatsSessionStore(_connectionA, options);
        _b = new NatsSessionStore(_connectionB, options);
    }

    public async Task DisposeAsync()
    {
        _a.Dispose();
        _b.Dispose();
        await _connectionA.DisposeAsync();
        await _connectionB.DisposeAsync();
        await _server.DisposeAsync();
    }

    private static ISession Open(NatsSessionStore store, string key, bool isNew = false, double idleSeconds = 60) =>
        store.Create(key, TimeSpan.FromSeconds(idleSeconds), TimeSpan.FromSeconds(10), () => true, isNew);

    private static async Task<string?> ReadAsync(NatsSessionStore store, string key, string name, double idleSeconds = 60)
    {
        var s = Open(store, key, idleSeconds: idleSeconds);
        await s.LoadAsync();
        var value = s.GetString(name);
        await s.CommitAsync();
        return value;
    }

    private static async Task WaitActiveAsync(NatsSessionStore store)
    {
        var sw = Stopwatch.StartNew();
        while (!store.NearCacheActive && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(20);
        }

        Assert.True(store.NearCacheActive, "the near cache's watch never became live");
    }

    private static async Task<bool> EventuallyAsync(Func<Task<bool>> condition)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(5))
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(20);
        }

        return false;
    }

    [Fact]
    public async Task Unchanged_session_is_read_without_a_round_trip_until_another_node_writes()
    {
        var s = Open(_a, "n1", isNew: true);
        s.SetString("user", "ada");
        await s.CommitAsync();
        await ReadAsync(_a, "n1", "user"); // starts the watch
        await WaitActiveAsync(_a);
        await ReadAsync(_a, "n1", "user"); // fills the copy if the write happened before the watch was live
        var before = _a.Statistics;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal("ada", await ReadAsync(_a, "n1", "user"));
        }

        var after = _a.Statistics;
        Assert.Equal((0L, 5L), (after.RoundTrips - before.RoundTrips, after.LocalReads - before.LocalReads));

        // Node B changes the session: node A's copy is dropped by the watch and A reads B's value from the server.
        var change = Open(_b, "n1");
        await change.LoadAsync();
        change.SetString("user", "grace");
        await change.CommitAsync();
        Assert.True(await EventuallyAsync(async () => await ReadAsync(_a, "n1", "user") == "grace"), "node A kept serving its stale copy");
    }

    [Fact]
    public async Task Write_based_on_a_stale_copy_is_refused_and_re_applied()
    {
        var s = Open(_a, "n2", isNew: true);
        s.SetString("a", "0");
        await s.CommitAsync();
        await ReadAsync(_a, "n2", "a");
        await WaitActiveAsync(_a);
        await ReadAsync(_a, "n2", "a");

        // A loads (possibly from its copy) before B's write is known to it, then commits its own change.
        var onA = Open(_a, "n2");
        await onA.LoadAsync();
        var onB = Open(_b, "n2");
        await onB.LoadAsync();
        onB.SetString("b", "2");
        await onB.CommitAsync();
        onA.SetString("a", "1");
        await onA.CommitAsync();
        Assert.Equal(1, _a.Statistics.Conflicts);

        Assert.True(await EventuallyAsync(async () => await ReadAsync(_b, "n2", "a") == "1" && await ReadAsync(_a, "n2", "b") == "2"),
            "one node's change was lost");
    }

    [Fact]
    public async Task Idle_session_is_not_served_from_the_copy_after_it_ended()
    {
        var s = Open(_a, "n3", isNew: true, idleSeconds: 1);
        s.SetString("v", "x");
        await s.CommitAsync();
        await ReadAsync(_a, "n3", "v", idleSeconds: 1);
        await WaitActiveAsync(_a);
        Assert.Equal("x", await ReadAsync(_a, "n3", "v", idleSeconds: 1));
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // stored TTL: 1 s × 1.5, rounded up to 2 s
        Assert.Null(await ReadAsync(_a, "n3", "v", idleSeconds: 1));
    }

    [Fact]
    public async Task Ended_sessions_are_reported_from_the_near_cache_watch_without_a_second_consumer()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var first = new List<SessionEnded>();
        var second = new List<SessionEnded>();
        async Task Collect(List<SessionEnded> seen)
        {
            await foreach (var e in _a.WatchEndedSessionsAsync(cts.Token))
            {
                lock (seen)
                {
                    seen.Add(e);
                    if (seen.Count == 2)
                    {
                        return;
                    }
                }
            }
        }

        var watching = Task.WhenAll(Task.Run(() => Collect(first)), Task.Run(() => Collect(second)));
        await WaitActiveAsync(_a);
        Assert.True(await EventuallyAsync(() => Task.FromResult(_a.Near!.EndedReaders == 2)), "the readers never registered");

        // Two readers and the near cache: still one consumer on the bucket's stream (node B has not started its watch).
        var stream = await new KvContext(_connectionA).JetStream.GetStreamAsync("KV_sessions");
        Assert.Equal(1, stream.Info.State.ConsumerCount);

        var idle = Open(_a, "e1", isNew: true, idleSeconds: 1);
        idle.SetString("x", "1");
        await idle.CommitAsync();
        var gone = Open(_b, "e2", isNew: true);
        gone.SetString("x", "1");
        await gone.CommitAsync();
        await _b.RemoveAsync("e2"); // another node ends it

        await watching.WaitAsync(cts.Token);
        foreach (var seen in new[] { first, second })
        {
            Assert.Contains(seen, e => e is { SessionKey: "e2", Reason: SessionEndReason.Removed });
            Assert.Contains(seen, e => e is { SessionKey: "e1", Reason: SessionEndReason.IdleTimeout });
        }
    }

    [Fact]
    public async Task Own_write_keeps_the_copy_so_the_next_request_reads_nothing()
    {
        var s = Open(_a, "n4", isNew: true);
        s.SetString("n", "0");
        await s.CommitAsync();
        await ReadAsync(_a, "n4", "n");
        await WaitActiveAsync(_a);
        await ReadAsync(_a, "n4", "n");
        var before = _a.Statistics;
        for (var i = 1; i <= 5; i++)
        {
            var w = Open(_a, "n4");
            await w.LoadAsync();
            w.SetString("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            await w.CommitAsync();
        }

        await Task.Delay(300); // the watch delivers this node's own writes: at the revision it stored they drop nothing
        Assert.Equal("5", await ReadAsync(_a, "n4", "n"));
        var after = _a.Statistics;
        Assert.Equal((0L, 5L, 6L), (after.Reads - before.Reads, after.Writes - before.Writes, after.LocalReads - before.LocalReads));
    }
}

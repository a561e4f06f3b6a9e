using System.Diagnostics;
using CacheProvider.Nats;
using CacheProvider.Sessions;
using Microsoft.AspNetCore.Http;

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
        _connectionA = new NatsConnection(new NatsOptions { Url = _server.Url });
        _connectionB = new NatsConnection(new NatsOptions { Url = _server.Url });
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
}

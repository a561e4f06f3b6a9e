using ZiggyCreatures.Caching.Fusion;

namespace CacheProvider.FusionCache.Tests;

/// <summary>Two FusionCache nodes (own ServiceProvider and NATS connection each) on one nats-server.</summary>
public sealed class NatsBackplaneFusionCacheTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Set_on_one_node_makes_the_other_nodes_L1_serve_the_new_value_from_the_nats_L2()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await FusionNode.StartAsync(server, withL2: true);
        await using var b = await FusionNode.StartAsync(server, withL2: true);

        await a.Cache.SetAsync("product:1", "v1");
        Assert.Equal("v1", await b.Cache.GetOrDefaultAsync<string>("product:1"));

        // Without a notification B keeps serving its L1 copy although L2 changed: only the backplane refreshes it.
        await a.Cache.SetAsync("product:1", "v2", o => o.SkipBackplaneNotifications = true);
        Assert.Equal("v1", await b.Cache.GetOrDefaultAsync<string>("product:1"));

        await a.Cache.SetAsync("product:1", "v3");
        await Eventually.TrueAsync(async () => await b.Cache.GetOrDefaultAsync<string>("product:1") == "v3", "B serves v3");
        Assert.Equal("v3", await a.Cache.GetOrDefaultAsync<string>("product:1"));
    }

    [Fact]
    public async Task With_the_nats_L2_a_set_reaches_the_other_node_after_a_server_restart()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await FusionNode.StartAsync(server, withL2: true);
        await using var b = await FusionNode.StartAsync(server, withL2: true);
        await a.Cache.SetAsync("product:2", "v1");
        Assert.Equal("v1", await b.Cache.GetOrDefaultAsync<string>("product:2"));

        await server.RestartAsync();
        await Eventually.OpenAsync(a.Connection);
        await Eventually.OpenAsync(b.Connection);

        await a.Cache.SetAsync("product:2", "v2");
        await Eventually.TrueAsync(async () => await b.Cache.GetOrDefaultAsync<string>("product:2") == "v2", "B serves v2 after the restart");
    }

    [Fact]
    public async Task Remove_on_one_node_makes_the_other_node_miss()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await FusionNode.StartAsync(server);
        await using var b = await FusionNode.StartAsync(server);

        await b.Cache.SetAsync("session:7", "alice", o => o.SkipBackplaneNotifications = true);
        await a.Cache.RemoveAsync("session:7");

        await Eventually.TrueAsync(async () => !(await b.Cache.TryGetAsync<string>("session:7")).HasValue, "B misses session:7");
    }

    [Fact]
    public async Task Expire_on_one_node_makes_the_other_node_miss()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await FusionNode.StartAsync(server);
        await using var b = await FusionNode.StartAsync(server);

        await b.Cache.SetAsync("report", "old", o => o.SkipBackplaneNotifications = true);
        await a.Cache.ExpireAsync("report");

        await Eventually.TrueAsync(async () => !(await b.Cache.TryGetAsync<string>("report")).HasValue, "B misses the expired report");
    }

    [Fact]
    public async Task The_synchronous_api_publishes_and_evicts_too()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await FusionNode.StartAsync(server);
        await using var b = await FusionNode.StartAsync(server);

        b.Cache.Set("sync", "v", o => o.SkipBackplaneNotifications = true);
        a.Cache.Remove("sync");

        await Eventually.TrueAsync(() => Task.FromResult(!b.Cache.TryGet<string>("sync").HasValue), "B misses sync");
    }

    [Fact]
    public async Task Set_on_one_node_without_L2_evicts_the_other_nodes_stale_L1_copy()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await FusionNode.StartAsync(server);
        await using var b = await FusionNode.StartAsync(server);

        await b.Cache.SetAsync("price", 10, o => o.SkipBackplaneNotifications = true);
        await a.Cache.SetAsync("price", 12);

        await Eventually.TrueAsync(async () => !(await b.Cache.TryGetAsync<int>("price")).HasValue, "B dropped its stale price");
        Assert.Equal(12, await a.Cache.GetOrDefaultAsync<int>("price"));
    }

    [Fact]
    public async Task A_nodes_own_set_does_not_evict_its_own_L1_entry()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await FusionNode.StartAsync(server);
        await using var b = await FusionNode.StartAsync(server);

        await a.Cache.SetAsync("sentinel", "x", o => o.SkipBackplaneNotifications = true);
        await Eventually.PublishedAsync(a.Cache, a.Connection, "mine", () => a.Cache.SetAsync("mine", "kept").AsTask());

        // A's own message was routed back to A before B's: A dropping the sentinel means it has seen (and ignored) its own.
        await b.Cache.RemoveAsync("sentinel");
        await Eventually.TrueAsync(async () => !(await a.Cache.TryGetAsync<string>("sentinel")).HasValue, "A dropped the sentinel");
        Assert.Equal("kept", await a.Cache.GetOrDefaultAsync<string>("mine"));
    }

    [Fact]
    public async Task Caches_with_different_names_do_not_evict_each_other()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var orders = await FusionNode.StartAsync(server, cacheName: "orders");
        await using var users = await FusionNode.StartAsync(server, cacheName: "users");
        await using var users2 = await FusionNode.StartAsync(server, cacheName: "users");

        await users.Cache.SetAsync("k", "users-value", o => o.SkipBackplaneNotifications = true);
        await users.Cache.SetAsync("sentinel", "x", o => o.SkipBackplaneNotifications = true);
        await Eventually.PublishedAsync(orders.Cache, orders.Connection, "k", () => orders.Cache.RemoveAsync("k").AsTask());
        await users2.Cache.RemoveAsync("sentinel");

        await Eventually.TrueAsync(async () => !(await users.Cache.TryGetAsync<string>("sentinel")).HasValue, "users dropped the sentinel");
        Assert.Equal("users-value", await users.Cache.GetOrDefaultAsync<string>("k"));
    }

    [Fact]
    public async Task After_a_server_restart_the_backplane_keeps_evicting_on_other_nodes()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await FusionNode.StartAsync(server);
        await using var b = await FusionNode.StartAsync(server);

        await b.Cache.SetAsync("k1", "v", o => o.SkipBackplaneNotifications = true);
        await a.Cache.RemoveAsync("k1");
        await Eventually.TrueAsync(async () => !(await b.Cache.TryGetAsync<string>("k1")).HasValue, "B misses k1 before the restart");

        await server.RestartAsync();
        await Eventually.OpenAsync(a.Connection);
        await Eventually.OpenAsync(b.Connection);

        await b.Cache.SetAsync("k2", "v", o => o.SkipBackplaneNotifications = true);
        await a.Cache.RemoveAsync("k2");
        await Eventually.TrueAsync(async () => !(await b.Cache.TryGetAsync<string>("k2")).HasValue, "B misses k2 after the restart");

        await server.KillAsync();
        await server.StartAgainAsync();
        await Eventually.OpenAsync(a.Connection);
        await Eventually.OpenAsync(b.Connection);

        await a.Cache.SetAsync("k3", "v", o => o.SkipBackplaneNotifications = true);
        await b.Cache.SetAsync("k3", "from-b");
        await Eventually.TrueAsync(async () => !(await a.Cache.TryGetAsync<string>("k3")).HasValue, "A drops k3 after kill -9 and start");
    }

    [Fact]
    public async Task A_remove_while_nats_is_down_reaches_the_other_node_through_fusioncache_auto_recovery_once_nats_is_back()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await FusionNode.StartAsync(server);
        await using var b = await FusionNode.StartAsync(server);
        await b.Cache.SetAsync("stale", "v", o => o.SkipBackplaneNotifications = true);

        await server.KillAsync();
        await Eventually.TrueAsync(() => Task.FromResult(a.Connection.ConnectionState != NATS.Client.Core.NatsConnectionState.Open), "A saw the outage");
        await a.Cache.RemoveAsync("stale");
        Assert.True((await b.Cache.TryGetAsync<string>("stale")).HasValue);

        // The publish failed; FusionCache kept it and replays it after the backplane reports the re-connection
        // (waiting AutoRecoveryDelay so that the other nodes are back too).
        await server.StartAgainAsync();
        await Eventually.TrueAsync(async () => !(await b.Cache.TryGetAsync<string>("stale")).HasValue, "B misses the key removed during the outage");
    }
}

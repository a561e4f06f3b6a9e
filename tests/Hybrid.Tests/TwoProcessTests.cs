namespace CacheProvider.Hybrid.Tests;

/// <summary>
/// Node A and node B are separate OS processes on one real nats-server, each a HybridCache over the NATS cache with
/// <c>AddNatsHybridCacheInvalidation()</c>: B's L1 follows A's Set, Remove, RemoveByTagAsync and an expiry.
/// </summary>
public sealed class TwoProcessTests(ITestOutputHelper output)
{
    [Fact]
    public async Task B_s_L1_follows_A_s_Set_Remove_RemoveByTag_and_an_expiry_across_processes()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var a = await NodeProcess.StartAsync(server.Url, "two-proc", "A", output);
        await using var b = await NodeProcess.StartAsync(server.Url, "two-proc", "B", output);
        Assert.NotEqual(a.Id, b.Id);

        // Set: B holds v1 in L1, A sets v2, B returns v2.
        await a.SendAsync("set k v1");
        Assert.Equal("value v1", await b.SendAsync("get k"));
        Assert.Equal("held", await b.SendAsync("l1 k"));
        await a.SendAsync("set k v2");
        await Eventually.TrueAsync(async () => await b.SendAsync("get k") == "value v2", "B returns A's v2");

        // Remove: B drops k from L1 and misses.
        await a.SendAsync("remove k");
        await Eventually.TrueAsync(async () => await b.SendAsync("l1 k") == "absent", "B's L1 drops k");
        Assert.Equal("miss", await b.SendAsync("get k"));

        // RemoveByTagAsync: B's tagged entry is gone, its untagged entry stays.
        await a.SendAsync("set p1 one 600 products");
        await a.SendAsync("set u1 user");
        Assert.Equal("value one", await b.SendAsync("get p1 products")); // HybridCache checks the tags a read names
        Assert.Equal("value user", await b.SendAsync("get u1"));
        await a.SendAsync("removetag products");
        await Eventually.TrueAsync(async () => await b.SendAsync("get p1 products") == "miss", "B sees the tag invalidated");
        Assert.Equal("value user", await b.SendAsync("get u1"));

        // Expiry: B applies A's Set of e and then the server's expiry marker, and B's L1 no longer has the key.
        async Task<long> AppliedAsync() => long.Parse((await b.SendAsync("applied"))["applied ".Length..]);
        var appliedBefore = await AppliedAsync();
        await a.SendAsync("set e soon 2");
        await Eventually.TrueAsync(async () => await AppliedAsync() == appliedBefore + 1, "B applied A's Set of e");
        Assert.Equal("value soon", await b.SendAsync("get e"));
        Assert.Equal("held", await b.SendAsync("l1 e"));
        await Eventually.TrueAsync(async () => await AppliedAsync() == appliedBefore + 2, "B applied the expiry of e");
        Assert.Equal("absent", await b.SendAsync("l1 e"));
        Assert.Equal("miss", await b.SendAsync("get e"));
    }
}

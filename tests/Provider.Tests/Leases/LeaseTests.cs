using System.Diagnostics;
using CacheProvider.Leases;
using CacheProvider.KeyValue;

namespace CacheProvider.Tests.Leases;

public sealed class LeaseTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Contenders_never_hold_at_once_and_fencing_tokens_strictly_increase()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var c1 = await server.ConnectAsync();
        await using var c2 = await server.ConnectAsync();
        const int contenders = 8;
        const int rounds = 5;
        var managers = Enumerable.Range(0, contenders).Select(i => new LeaseManager(i % 2 == 0 ? c1 : c2, new LeaseOptions { Owner = $"w{i}" })).ToList();
        var holders = 0;
        var maxHolders = 0;
        var tokens = new List<ulong>();
        var gate = new object();

        async Task Worker(LeaseManager manager)
        {
            for (var r = 0; r < rounds; r++)
            {
                await using var lease = await manager.AcquireAsync("jobs.nightly", TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(5));
                var now = Interlocked.Increment(ref holders);
                lock (gate)
                {
                    maxHolders = Math.Max(maxHolders, now);
                    tokens.Add(lease.FencingToken);
                }

                await Task.Delay(Random.Shared.Next(0, 4));
                Interlocked.Decrement(ref holders);
            }
        }

        await Task.WhenAll(managers.Select(Worker)).WaitAsync(TimeSpan.FromSeconds(90));
        Assert.Equal(1, maxHolders);
        Assert.Equal(contenders * rounds, tokens.Count);
        for (var i = 1; i < tokens.Count; i++)
        {
            Assert.True(tokens[i] > tokens[i - 1], $"token {tokens[i]} after {tokens[i - 1]}");
        }

        foreach (var m in managers)
        {
            await m.DisposeAsync();
        }
    }

    [Fact]
    public async Task Killed_holder_is_replaced_within_ttl_and_its_lease_reports_lost()
    {
        await using var server = await NatsServer.StartAsync(output);
        var holderConnection = await server.ConnectAsync();
        await using var waiterConnection = await server.ConnectAsync();
        var holderManager = new LeaseManager(holderConnection, new LeaseOptions { Owner = "holder" });
        await using var waiterManager = new LeaseManager(waiterConnection, new LeaseOptions { Owner = "waiter" });
        var ttl = TimeSpan.FromSeconds(2);

        var held = await holderManager.AcquireAsync("reports", TimeSpan.FromSeconds(5), ttl);
        var lost = new TaskCompletionSource<LeaseLostEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        held.Lost += (_, e) => lost.TrySetResult(e);
        var waiting = waiterManager.AcquireAsync("reports", TimeSpan.FromSeconds(20), ttl);
        await Task.Delay(300);
        Assert.False(waiting.IsCompleted);

        // The holder "crashes": its connection goes away without a release, so renewals stop.
        var killedAt = Stopwatch.StartNew();
        await holderConnection.DisposeAsync();
        var deadline = (await waiterManager.GetHolderAsync("reports"))?.ExpiresAt;
        var lease = await waiting.WaitAsync(TimeSpan.FromSeconds(20));
        var acquiredAt = DateTimeOffset.UtcNow;
        output.WriteLine($"taken over {killedAt.Elapsed.TotalMilliseconds:F0} ms after the kill, {(acquiredAt - deadline)?.TotalMilliseconds:F0} ms after the deadline");
        Assert.True(killedAt.Elapsed <= ttl + TimeSpan.FromSeconds(1.5), $"takeover took {killedAt.Elapsed}");
        Assert.True(lease.FencingToken > held.FencingToken);
        Assert.Equal("waiter", (await waiterManager.GetHolderAsync("reports"))?.Owner);

        var e = await lost.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(LeaseLostReason.RenewalFailed, e.Reason);
        Assert.True(held.LostToken.IsCancellationRequested);
        Assert.False(held.IsHeld);
        await holderManager.DisposeAsync();
        await lease.DisposeAsync();
    }

    [Fact]
    public async Task Renewal_keeps_the_lease_across_a_server_restart()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var other = await server.ConnectAsync();
        await using var manager = new LeaseManager(connection, new LeaseOptions());
        await using var rival = new LeaseManager(other, new LeaseOptions());
        var lease = await manager.AcquireAsync("singleton", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(6));
        var lostRaised = false;
        lease.Lost += (_, _) => lostRaised = true;

        await server.KillAsync();
        await Task.Delay(1000);
        await server.StartAgainAsync();
        var before = lease.Revision;

        // Renewals resume once the client has reconnected; wait for one that happened after the restart.
        var sw = Stopwatch.StartNew();
        while (lease.Revision == before && sw.Elapsed < TimeSpan.FromSeconds(8))
        {
            await Task.Delay(100);
        }

        Assert.NotEqual(before, lease.Revision);
        Assert.True(lease.IsHeld);
        Assert.Null(lease.LostReason);
        Assert.Null(await rival.TryAcquireAsync("singleton"));
        Assert.False(lostRaised);
        Assert.True(await lease.ReleaseAsync());
        Assert.NotNull(await rival.TryAcquireAsync("singleton"));
    }

    [Fact]
    public async Task Release_wakes_a_waiter_at_once_and_leaves_no_permanent_tombstone()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var a = new LeaseManager(connection, new LeaseOptions { Owner = "a" });
        await using var b = new LeaseManager(connection, new LeaseOptions { Owner = "b" });
        var first = await a.AcquireAsync("door", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(60));
        var waiting = b.AcquireAsync("door", TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60));
        await Task.Delay(300);
        Assert.True(await first.ReleaseAsync());
        Assert.True(first.LostToken.IsCancellationRequested);
        Assert.Null(first.LostReason);

        // Long before the 60 s TTL could have freed it: the waiter woke on the release.
        var second = await waiting.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(second.FencingToken > first.FencingToken);
        Assert.False(await first.ReleaseAsync());
        Assert.True(await second.ReleaseAsync());

        var status = await new KvContext(connection).GetStatusAsync("leases");
        var sw = Stopwatch.StartNew();
        while (status.Values > 0 && sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(250);
            status = await new KvContext(connection).GetStatusAsync("leases");
        }

        Assert.Equal(0UL, status.Values);
    }

    [Fact]
    public async Task Lease_taken_by_someone_else_is_reported_lost_with_the_reason()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var manager = new LeaseManager(connection, new LeaseOptions());
        var lease = await manager.AcquireAsync("cron", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        var lost = new TaskCompletionSource<LeaseLostEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        lease.Lost += (_, e) => lost.TrySetResult(e);

        // As if the lease had expired during a stall and another process had taken the key.
        var bucket = await new KvContext(connection).GetBucketAsync("leases");
        await bucket.PutAsync("cron", "intruder x"u8.ToArray(), TimeSpan.FromSeconds(30));

        Assert.False(await lease.RenewAsync());
        var e = await lost.Task.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(LeaseLostReason.TakenOver, e.Reason);
        Assert.Equal(lease.FencingToken, e.FencingToken);
        Assert.True(lease.LostToken.IsCancellationRequested);
        Assert.False(await lease.ReleaseAsync());
        Assert.Equal("x", (await manager.GetHolderAsync("cron"))?.Owner);
    }

    [Fact]
    public async Task Lease_removed_by_someone_else_is_reported_removed()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var manager = new LeaseManager(connection, new LeaseOptions());
        var lease = await manager.AcquireAsync("cleanup", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30));
        var bucket = await new KvContext(connection).GetBucketAsync("leases");
        await bucket.PurgeAsync("cleanup", TimeSpan.FromSeconds(30));
        Assert.False(await lease.RenewAsync());
        Assert.Equal(LeaseLostReason.Removed, lease.LostReason);
    }

    [Fact]
    public async Task Busy_lock_try_acquire_returns_null_and_acquire_times_out()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var manager = new LeaseManager(connection, new LeaseOptions());
        await using var held = await manager.AcquireAsync("busy", TimeSpan.Zero, TimeSpan.FromSeconds(30));
        Assert.Null(await manager.TryAcquireAsync("busy"));
        await Assert.ThrowsAsync<TimeoutException>(() => manager.AcquireAsync("busy", TimeSpan.FromMilliseconds(500)));
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => manager.AcquireAsync("busy", Timeout.InfiniteTimeSpan, cancellationToken: cts.Token));
        Assert.Equal(1, manager.ActiveLeases);
    }
}

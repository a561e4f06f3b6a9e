using CacheProvider.Leases;
using CacheProvider.KeyValue;
using NATS.Client.Core;

namespace CacheProvider.Tests.Leases;

public sealed class LeaseQueueTests(ITestOutputHelper output)
{
    /// <summary>Starts a waiter and returns once it sits in the manager's local queue, so arrival order is defined.</summary>
    private static async Task<Task<Lease>> EnqueueAsync(LeaseManager manager, string name, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var before = manager.LocalWaiters(name);
        var waiting = manager.AcquireAsync(name, timeout, TimeSpan.FromSeconds(10), cancellationToken);
        var until = DateTime.UtcNow.AddSeconds(10);
        while (manager.LocalWaiters(name) == before)
        {
            Assert.False(waiting.IsCompleted, "the waiter finished instead of queueing");
            Assert.True(DateTime.UtcNow < until, "the waiter never queued");
            await Task.Delay(10, CancellationToken.None);
        }

        return waiting;
    }

    private static async Task<long> ConsumerCountAsync(INatsConnection connection) =>
        (await new KvContext(connection).JetStream.GetStreamAsync("KV_" + new LeaseOptions().Bucket)).Info.State.ConsumerCount;

    [Fact]
    public async Task Waiters_in_one_manager_acquire_in_arrival_order()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var holderConnection = await server.ConnectAsync();
        await using var connection = await server.ConnectAsync();
        await using var holderManager = new LeaseManager(holderConnection, new LeaseOptions { Owner = "holder" });
        await using var manager = new LeaseManager(connection, new LeaseOptions { Owner = "local" });
        var held = await holderManager.AcquireAsync("queue", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));

        const int waiters = 6;
        var order = new List<int>();
        var tokens = new List<ulong>();
        var runs = new List<Task>();
        for (var i = 0; i < waiters; i++)
        {
            var index = i;
            var waiting = await EnqueueAsync(manager, "queue", TimeSpan.FromSeconds(60));
            runs.Add(Task.Run(async () =>
            {
                await using var lease = await waiting;
                lock (order)
                {
                    order.Add(index);
                    tokens.Add(lease.FencingToken);
                }

                await Task.Delay(20);
            }));
        }

        await held.ReleaseAsync();
        await Task.WhenAll(runs).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, waiters), order);
        Assert.Equal(tokens.Order(), tokens);
        Assert.Equal(0, manager.LocalWaiters("queue"));
    }

    [Fact]
    public async Task A_new_local_acquirer_queues_behind_waiters_instead_of_overtaking_them()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var holderConnection = await server.ConnectAsync();
        await using var connection = await server.ConnectAsync();
        await using var holderManager = new LeaseManager(holderConnection, new LeaseOptions { Owner = "holder" });
        await using var manager = new LeaseManager(connection, new LeaseOptions { Owner = "local" });
        var held = await holderManager.AcquireAsync("fair", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
        var first = await EnqueueAsync(manager, "fair", TimeSpan.FromSeconds(60));
        var second = await EnqueueAsync(manager, "fair", TimeSpan.FromSeconds(60));
        await held.ReleaseAsync();

        // The first waiter releases and asks again at once: the lock is free that instant, but the second waiter is queued.
        var lease = await first.WaitAsync(TimeSpan.FromSeconds(10));
        await lease.ReleaseAsync();
        var again = manager.AcquireAsync("fair", TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10));
        var secondLease = await second.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(again.IsCompleted);
        await secondLease.ReleaseAsync();
        var againLease = await again.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(againLease.FencingToken > secondLease.FencingToken);
        await againLease.ReleaseAsync();
    }

    [Fact]
    public async Task Local_waiters_share_one_server_consumer_and_try_acquire_does_not_queue()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var holderConnection = await server.ConnectAsync();
        await using var connection = await server.ConnectAsync();
        await using var holderManager = new LeaseManager(holderConnection, new LeaseOptions { Owner = "holder" });
        await using var manager = new LeaseManager(connection, new LeaseOptions { Owner = "local" });
        var held = await holderManager.AcquireAsync("shared", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));

        const int waiters = 8;
        var waiting = new List<Task<Lease>>();
        for (var i = 0; i < waiters; i++)
        {
            waiting.Add(await EnqueueAsync(manager, "shared", TimeSpan.FromSeconds(60)));
        }

        // Give every waiter the time it would need to start a watch of its own.
        await Task.Delay(1000);
        var consumers = await ConsumerCountAsync(connection);
        output.WriteLine($"{consumers} consumer(s) for {waiters} local waiters");
        Assert.InRange(consumers, 0, 1);

        Assert.Null(await manager.TryAcquireAsync("shared"));
        Assert.Equal(waiters, manager.LocalWaiters("shared"));

        await held.ReleaseAsync();
        foreach (var w in waiting)
        {
            var lease = await w.WaitAsync(TimeSpan.FromSeconds(30));
            await lease.ReleaseAsync();
        }

        Assert.Equal(0, manager.LocalWaiters("shared"));
    }

    [Fact]
    public async Task Cancelled_or_timed_out_waiters_ahead_do_not_block_the_ones_behind_them()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var holderConnection = await server.ConnectAsync();
        await using var connection = await server.ConnectAsync();
        await using var holderManager = new LeaseManager(holderConnection, new LeaseOptions { Owner = "holder" });
        await using var manager = new LeaseManager(connection, new LeaseOptions { Owner = "local" });
        var held = await holderManager.AcquireAsync("busy", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));

        using var cancelHead = new CancellationTokenSource();
        var head = await EnqueueAsync(manager, "busy", TimeSpan.FromSeconds(60), cancelHead.Token);
        var middle = await EnqueueAsync(manager, "busy", TimeSpan.FromSeconds(1));
        var last = await EnqueueAsync(manager, "busy", TimeSpan.FromSeconds(60));

        // The middle one times out while queued, then the head is cancelled while it watches.
        await Assert.ThrowsAsync<TimeoutException>(() => middle.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.False(last.IsCompleted);
        await cancelHead.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => head.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(1, manager.LocalWaiters("busy"));

        await held.ReleaseAsync();
        await using var lease = await last.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("local", (await manager.GetHolderAsync("busy"))?.Owner);
        Assert.Equal(0, manager.LocalWaiters("busy"));
    }
}

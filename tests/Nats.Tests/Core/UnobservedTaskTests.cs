using System.Collections.Concurrent;

namespace CacheProvider.Nats.Tests.Core;

/// <summary>
/// The client must not leave faulted tasks behind for the finalizer: applications that log
/// <see cref="TaskScheduler.UnobservedTaskException"/> would report them as errors.
/// </summary>
/// <remarks>
/// The check is process-wide, so the class runs in a non-parallel collection (xunit runs those after the parallel
/// ones, with nothing alongside), flushes the finalizer queue before listening (earlier tests' garbage is reported
/// before the window opens) and only counts faults carrying the client's exception types or stack frames.
/// </remarks>
[Collection(UnobservedTaskCollection.Name)]
public sealed class UnobservedTaskTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Dispose_during_a_blocked_write_leaves_no_unobserved_task_exception()
    {
        var unobserved = await CollectUnobservedAsync(async () =>
        {
            await using var server = await NatsServer.StartAsync(output, jetStream: false);
            var nats = new NatsConnection(Test.Options(server.Url) with { PingInterval = TimeSpan.FromMinutes(5) });
            await nats.ConnectAsync();
            server.Pause();
            try
            {
                // Publishes until one waits for space for a while: by then the socket buffers are full, the writer sits in
                // a write that cannot finish and the pending buffer holds bytes, so DisposeAsync tries its bounded
                // flush and that PING's PONG never comes.
                var payload = new byte[512 * 1024];
                Task? blocked = null;
                for (var i = 0; i < 1000 && blocked is null; i++)
                {
                    var publish = nats.PublishAsync("flood", payload).AsTask();
                    if (await Task.WhenAny(publish, Task.Delay(500)) != publish)
                    {
                        blocked = publish;
                    }
                    else
                    {
                        await publish;
                    }
                }

                Assert.NotNull(blocked);
                await nats.DisposeAsync().AsTask().Within();

                await Assert.ThrowsAnyAsync<NatsException>(() => blocked.Within());
            }
            finally
            {
                server.Resume();
            }
        });

        Assert.True(unobserved.Count == 0, "unobserved task exceptions from the client:\n" + string.Join("\n", unobserved));
    }

    [Fact]
    public async Task Cancelled_flush_on_a_lost_connection_leaves_no_unobserved_task_exception()
    {
        var unobserved = await CollectUnobservedAsync(async () =>
        {
            await using var server = await NatsServer.StartAsync(output, jetStream: false);
            await using var nats = new NatsConnection(Test.Options(server.Url) with { PingInterval = TimeSpan.FromMinutes(5) });
            await nats.ConnectAsync();
            server.Pause();
            try
            {
                // The PING goes out but its PONG never comes: the caller gives up, and the connection then closes,
                // failing the abandoned PONG waiter.
                using (var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200)))
                {
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => nats.FlushAsync(cts.Token));
                }

                await nats.DisposeAsync();
            }
            finally
            {
                server.Resume();
            }
        });

        Assert.True(unobserved.Count == 0, "unobserved task exceptions from the client:\n" + string.Join("\n", unobserved));
    }

    /// <summary>Runs <paramref name="scenario"/>, lets its garbage be finalized, and returns the client's unobserved faults.</summary>
    private static async Task<List<Exception>> CollectUnobservedAsync(Func<Task> scenario)
    {
        // Earlier tests' faulted tasks that are already garbage are reported now, before the handler listens.
        CollectAndFinalize();
        var seen = new ConcurrentQueue<Exception>();
        EventHandler<UnobservedTaskExceptionEventArgs> onUnobserved = (_, e) => seen.Enqueue(e.Exception);
        TaskScheduler.UnobservedTaskException += onUnobserved;
        try
        {
            // In a separate async method so that none of its locals keep the scenario's tasks alive.
            await scenario();
            CollectAndFinalize();
        }
        finally
        {
            TaskScheduler.UnobservedTaskException -= onUnobserved;
        }

        return seen.Where(IsFromClient).ToList();
    }

    private static void CollectAndFinalize()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
    }

    /// <summary>
    /// A fault belongs to the client if any exception in it has a client type (faults set on a task completion
    /// source were never thrown, so they have no stack) or was thrown through client code.
    /// </summary>
    internal static bool IsFromClient(Exception exception)
    {
        var clientAssembly = typeof(NatsConnection).Assembly;
        var pending = new Stack<Exception>([exception]);
        while (pending.TryPop(out var e))
        {
            if (e.GetType().Assembly == clientAssembly || e.StackTrace?.Contains("CacheProvider.Nats.", StringComparison.Ordinal) == true)
            {
                return true;
            }

            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    pending.Push(inner);
                }
            }
            else if (e.InnerException is not null)
            {
                pending.Push(e.InnerException);
            }
        }

        return false;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class UnobservedTaskCollection
{
    public const string Name = "UnobservedTasks";
}

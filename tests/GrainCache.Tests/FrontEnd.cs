using System.Reflection;
using System.Threading.Channels;
using CacheProvider.Caching;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Orleans;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>
/// A front end of the cache cluster: an <see cref="OrleansDistributedCache"/> on the cluster client, with its own NATS
/// connection (optionally through a <see cref="FaultProxy"/>), whose grain calls are counted and can be held.
/// </summary>
public sealed class FrontEnd : IAsyncDisposable
{
    private FrontEnd(OrleansDistributedCache cache, GrainCalls calls, NatsConnection connection)
    {
        Cache = cache;
        Calls = calls;
        Connection = connection;
    }

    public OrleansDistributedCache Cache { get; }

    public GrainCalls Calls { get; }

    public NatsConnection Connection { get; }

    public static async Task<FrontEnd> StartAsync(CacheCluster cluster, string natsUrl, Action<OrleansDistributedCacheOptions>? configure = null)
    {
        var connection = new NatsConnection(TestNats.Options(natsUrl));
        await connection.ConnectAsync();
        var options = Options(configure);
        var calls = new GrainCalls();
        var cache = new OrleansDistributedCache(ProbedGrainFactory.Create(cluster.Client, calls), Microsoft.Extensions.Options.Options.Create(options), connection: connection);
        return new FrontEnd(cache, calls, connection);
    }

    public static OrleansDistributedCacheOptions Options(Action<OrleansDistributedCacheOptions>? configure = null)
    {
        var options = new OrleansDistributedCacheOptions { Bucket = CacheCluster.Bucket, ServiceId = CacheCluster.ServiceId };
        configure?.Invoke(options);
        return options;
    }

    /// <summary>Reads once (which starts the near cache's watch) and waits until the near cache serves.</summary>
    public async Task WaitNearCacheLiveAsync()
    {
        _ = await Cache.GetAsync("warm-up");
        Assert.True(await Eventually.HoldsAsync(() => Task.FromResult(Cache.NearCacheActive)), "the near cache's watch never went live");
    }

    public async ValueTask DisposeAsync()
    {
        await Cache.DisposeAsync();
        await Connection.DisposeAsync();
    }
}

/// <summary>Counts the cache grain calls a front end makes; can hold one key's next <c>GetForNearCache</c> answer.</summary>
public sealed class GrainCalls
{
    private int _count;
    private string? _holdKey;
    private TaskCompletionSource? _fetched;
    private TaskCompletionSource? _release;

    public int Count => Volatile.Read(ref _count);

    public void Counted() => Interlocked.Increment(ref _count);

    /// <summary>
    /// The next <c>GetForNearCache</c> of <paramref name="key"/> gets its answer from the grain, signals the first task,
    /// and returns it only when the second completes.
    /// </summary>
    public (Task Fetched, TaskCompletionSource Release) HoldNextRead(string key)
    {
        _fetched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _holdKey, key);
        return (_fetched.Task, _release);
    }

    internal async Task AfterReadAsync(string key)
    {
        if (Interlocked.CompareExchange(ref _holdKey, null, key) == key)
        {
            _fetched!.SetResult();
            await _release!.Task;
        }
    }
}

/// <summary>Wraps the cluster client: cache grain references it hands out count their calls (<see cref="GrainCalls"/>).</summary>
public class ProbedGrainFactory : DispatchProxy
{
    private IGrainFactory _inner = null!;
    private GrainCalls _calls = null!;

    public static IGrainFactory Create(IGrainFactory inner, GrainCalls calls)
    {
        var proxy = Create<IGrainFactory, ProbedGrainFactory>();
        var self = (ProbedGrainFactory)(object)proxy;
        self._inner = inner;
        self._calls = calls;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        var result = targetMethod!.Invoke(_inner, args);

        // "_" is the key the cache asks for once to learn the grain type (it needs the real reference).
        return result is ICacheGrain grain && args is [string key, ..] && key != "_" ? new ProbedCacheGrain(grain, key, _calls) : result;
    }

    private sealed class ProbedCacheGrain(ICacheGrain inner, string key, GrainCalls calls) : ICacheGrain
    {
        public Task<byte[]?> Get()
        {
            calls.Counted();
            return inner.Get();
        }

        public async Task<CacheEntryRead> GetForNearCache()
        {
            calls.Counted();
            var read = await inner.GetForNearCache();
            await calls.AfterReadAsync(key);
            return read;
        }

        public Task Set(byte[] value, CacheEntryExpiration expiration)
        {
            calls.Counted();
            return inner.Set(value, expiration);
        }

        public Task Refresh()
        {
            calls.Counted();
            return inner.Refresh();
        }

        public Task Remove()
        {
            calls.Counted();
            return inner.Remove();
        }

        public Task<CacheLookup> GetOrLease(TimeSpan leaseWait)
        {
            calls.Counted();
            return inner.GetOrLease(leaseWait);
        }

        public Task CompleteLease(Guid lease, byte[] value, CacheEntryExpiration expiration)
        {
            calls.Counted();
            return inner.CompleteLease(lease, value, expiration);
        }

        public Task AbandonLease(Guid lease)
        {
            calls.Counted();
            return inner.AbandonLease(lease);
        }
    }
}

/// <summary>Collects what a watch yields, from the moment it is started, in the background.</summary>
public sealed class Collected<T> : IAsyncDisposable
{
    private readonly Channel<T> _seen = Channel.CreateUnbounded<T>();
    private readonly List<T> _all = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;

    public Collected(Func<CancellationToken, IAsyncEnumerable<T>> watch)
    {
        _pump = Task.Run(async () =>
        {
            try
            {
                await foreach (var item in watch(_stop.Token))
                {
                    _seen.Writer.TryWrite(item);
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
            }
        });
    }

    /// <summary>Everything seen so far, in order.</summary>
    public IReadOnlyList<T> All
    {
        get
        {
            lock (_all)
            {
                while (_seen.Reader.TryRead(out var item))
                {
                    _all.Add(item);
                }

                return [.. _all];
            }
        }
    }

    /// <summary>The first item (seen before or from now on) matching <paramref name="match"/>, or default after <paramref name="patience"/>.</summary>
    public async Task<T?> FirstAsync(Func<T, bool> match, TimeSpan patience)
    {
        var deadline = DateTime.UtcNow + patience;
        while (true)
        {
            foreach (var item in All)
            {
                if (match(item))
                {
                    return item;
                }
            }

            if (_pump.IsFaulted)
            {
                await _pump; // the watch failed: show why
            }

            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return default;
            }

            using var wait = new CancellationTokenSource(left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
            try
            {
                await _seen.Reader.WaitToReadAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    /// <summary>
    /// Makes sure the watch is live: repeats <paramref name="probe"/> (a change that yields an item) until an item matching
    /// <paramref name="seen"/> arrives, so that changes made afterwards are reported.
    /// </summary>
    public async Task ProbeUntilLiveAsync(Func<Task> probe, Func<T, bool> seen)
    {
        for (var i = 0; i < 60; i++)
        {
            await probe();
            if (await FirstAsync(seen, TimeSpan.FromMilliseconds(500)) is not null)
            {
                return;
            }
        }

        Assert.Fail("the watch never reported the probe change");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _pump;
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }
}

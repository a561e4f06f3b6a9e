using System.Diagnostics;
using CacheProvider.Bench.Harness;
using CacheProvider.Caching;
using CacheProvider.Connection;
using CacheProvider.Hybrid;
using CacheProvider.Testing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NATS.Client.Core;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// Our IDistributedCache against Microsoft's <see cref="RedisCache"/> (Microsoft.Extensions.Caching.StackExchangeRedis)
/// on a local Redis 8, same operations, same sizes; and cross-node HybridCache invalidation (time from a Set on node A
/// to node B's HybridCache returning the new value) against HybridCache on RedisCache with L1 off (without
/// invalidation, the only way B sees a change at once).
/// </summary>
internal sealed class RedisCacheMetric : IMetric, IServerCpuMetric
{
    private const int InFlight = 64;
    private const int Keys = 1000;
    private static int _run;
    private readonly string _mode;
    private readonly byte[] _value = new byte[1024];
    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<ServiceProvider> _providers = [];
    private RedisServer? _redis;
    private Exception? _redisError;
    private NatsDistributedCache _ours = null!;
    private RedisCache? _peer;
    private (HybridCache A, HybridCache B, NatsHybridCacheInvalidator BInvalidator)? _oursHybrid;
    private (HybridCache A, HybridCache B)? _peerHybrid;
    private int? _natsPid;
    private long _operations;

    public RedisCacheMetric(string mode)
    {
        _mode = mode;
        Random.Shared.NextBytes(_value);
        Outputs = mode switch
        {
            "get-inflight" => [new("cache_get_1KiB_64_inflight_ops_per_s", true)],
            "set-inflight" => [new("cache_set_1KiB_64_inflight_ops_per_s", true)],
            "get-sequential" => [new("cache_sequential_get_1KiB_p50_us", false), new("cache_sequential_get_1KiB_p99_us", false)],
            "sliding" => [new("cache_sliding_get_1KiB_64_inflight_ops_per_s", true)],
            "sliding-sequential" => [new("cache_sequential_sliding_get_1KiB_p50_us", false), new("cache_sequential_sliding_get_1KiB_p99_us", false)],
            "remove-churn" => [new("cache_set_then_remove_churn_64_inflight_pairs_per_s", true)],
            "hybrid-invalidation" => [new("hybrid_cross_node_invalidation_p50_us", false), new("hybrid_cross_node_invalidation_p99_us", false)],
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown redis comparison"),
        };
    }

    public string Name => "redis_" + _mode;

    public IReadOnlyList<MetricOutput> Outputs { get; }

    public IReadOnlyList<Side> Peers { get; } = [Side.Other];

    /// <inheritdoc />
    public long LastOperations => Interlocked.Read(ref _operations);

    /// <inheritdoc />
    public string ServerCpuOutput => Outputs[0].Name.Replace("_ops_per_s", "", StringComparison.Ordinal)
        .Replace("_pairs_per_s", "", StringComparison.Ordinal).Replace("_p50_us", "", StringComparison.Ordinal) + "_server_cpu_us_per_op";

    /// <inheritdoc />
    public int? ServerPid(Side side) => _mode == "hybrid-invalidation" ? null : side == Side.Ours ? _natsPid : _redis?.Pid;

    public string PeerLabel(Side peer) => _mode == "hybrid-invalidation" ? " (peer: HybridCache on RedisCache, L1 off)" : " (peer: RedisCache)";

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        _natsPid = context.ServerPid;
        if (_mode == "hybrid-invalidation")
        {
            var a = await StartNodeAsync(context.ServerUrl, cancellationToken).ConfigureAwait(false);
            var b = await StartNodeAsync(context.ServerUrl, cancellationToken).ConfigureAwait(false);
            _oursHybrid = (a.GetRequiredService<HybridCache>(), b.GetRequiredService<HybridCache>(), b.GetRequiredService<NatsHybridCacheInvalidator>());
        }
        else
        {
            var connection = new NatsConnection(NatsOpts.Default with { Url = context.ServerUrl, Name = "bench-vs-redis" });
            _ours = new NatsDistributedCache(connection, new NatsDistributedCacheOptions { Bucket = "bench_vs_redis" });
            _owned.Add(_ours);
            _owned.Add(connection);
            await _ours.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
        }

        // Redis is the peer: when it cannot start, only the peer's measurements fail.
        try
        {
            _redis = await RedisServer.StartAsync().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            if (_mode == "hybrid-invalidation")
            {
                var a = RedisNode(_redis.Configuration);
                var b = RedisNode(_redis.Configuration);
                _peerHybrid = (a.GetRequiredService<HybridCache>(), b.GetRequiredService<HybridCache>());
            }
            else
            {
                _peer = new RedisCache(new RedisCacheOptions { Configuration = _redis.Configuration, InstanceName = "bench:" });
                await _peer.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _redisError = ex;
        }
    }

    private async Task<ServiceProvider> StartNodeAsync(string url, CancellationToken cancellationToken)
    {
        var sp = new ServiceCollection()
            .AddNatsConnection(o => o.Url = url)
            .AddNatsDistributedCache(o => o.Bucket = "bench_hybrid")
            .AddHybridCache().Services
            .AddNatsHybridCacheInvalidation()
            .BuildServiceProvider();
        _providers.Add(sp);
        foreach (var hosted in sp.GetServices<IHostedService>())
        {
            await hosted.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        await sp.GetRequiredService<NatsHybridCacheInvalidator>().WhenActive.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        return sp;
    }

    private ServiceProvider RedisNode(string configuration)
    {
        var sp = new ServiceCollection()
            .AddStackExchangeRedisCache(o => o.Configuration = configuration)
            .AddHybridCache().Services
            .BuildServiceProvider();
        _providers.Add(sp);
        return sp;
    }

    public Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken)
    {
        if (side != Side.Ours && _redisError is not null)
        {
            throw new InvalidOperationException("redis-server did not start: " + _redisError.Message, _redisError);
        }

        IDistributedCache cache = side == Side.Ours ? _ours : _peer!;
        Interlocked.Exchange(ref _operations, 0);
        return _mode switch
        {
            "get-inflight" => GetInflightAsync(cache, sliding: false, warmup, cancellationToken),
            "sliding" => GetInflightAsync(cache, sliding: true, warmup, cancellationToken),
            "set-inflight" => SetInflightAsync(cache, warmup, cancellationToken),
            "get-sequential" => GetSequentialAsync(cache, sliding: false, warmup, cancellationToken),
            "sliding-sequential" => GetSequentialAsync(cache, sliding: true, warmup, cancellationToken),
            "remove-churn" => RemoveChurnAsync(cache, warmup, cancellationToken),
            "hybrid-invalidation" => side == Side.Ours ? OursInvalidationAsync(warmup, cancellationToken) : PeerInvalidationAsync(warmup, cancellationToken),
            _ => throw new NotSupportedException(_mode),
        };
    }

    private static int Count(bool warmup, int full) => warmup ? Math.Max(200, full / 5) : full;

    private async Task<string[]> FillAsync(IDistributedCache cache, string tag, DistributedCacheEntryOptions options, CancellationToken cancellationToken)
    {
        var prefix = $"{tag}{Interlocked.Increment(ref _run)}";
        var keys = new string[Keys];
        for (var i = 0; i < Keys; i++)
        {
            keys[i] = $"{prefix}.{i}";
        }

        await Inflight.RunAsync(Keys, InFlight, i => cache.SetAsync(keys[i], _value, options, cancellationToken)).ConfigureAwait(false);
        Interlocked.Add(ref _operations, Keys);
        return keys;
    }

    private async Task<double[]> GetInflightAsync(IDistributedCache cache, bool sliding, bool warmup, CancellationToken cancellationToken)
    {
        var options = sliding
            ? new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) }
            : new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        var keys = await FillAsync(cache, sliding ? "s" : "g", options, cancellationToken).ConfigureAwait(false);
        var count = Count(warmup, 30_000);
        var seconds = await Inflight.RunAsync(count, InFlight, async i =>
        {
            _ = await cache.GetAsync(keys[i % Keys], cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("miss");
        }).ConfigureAwait(false);
        Interlocked.Add(ref _operations, count);
        return [count / seconds];
    }

    private async Task<double[]> SetInflightAsync(IDistributedCache cache, bool warmup, CancellationToken cancellationToken)
    {
        var prefix = $"p{Interlocked.Increment(ref _run)}";
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        var count = Count(warmup, 30_000);
        var seconds = await Inflight.RunAsync(count, InFlight, i => cache.SetAsync($"{prefix}.{i % Keys}", _value, options, cancellationToken)).ConfigureAwait(false);
        Interlocked.Add(ref _operations, count);
        return [count / seconds];
    }

    /// <summary>
    /// One read at a time: what a request waits for. A sliding read costs RedisCache a second round trip (the refresh it
    /// sends after the read); with 64 in flight that round trip is pipelined and hardly shows, one at a time it does.
    /// </summary>
    private async Task<double[]> GetSequentialAsync(IDistributedCache cache, bool sliding, bool warmup, CancellationToken cancellationToken)
    {
        var options = sliding
            ? new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) }
            : new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        var keys = await FillAsync(cache, sliding ? "qs" : "q", options, cancellationToken).ConfigureAwait(false);
        var count = Count(warmup, 5000);
        var samples = new long[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            _ = await cache.GetAsync(keys[i % Keys], cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("miss");
            samples[i] = Stopwatch.GetTimestamp() - start;
        }

        Interlocked.Add(ref _operations, count);
        Array.Sort(samples);
        return [Latency.PercentileMicros(samples, 50), Latency.PercentileMicros(samples, 99)];
    }

    /// <summary>Set then Remove of a fresh key, 64 pairs in flight: the churn of short-lived entries (sessions, locks).</summary>
    private async Task<double[]> RemoveChurnAsync(IDistributedCache cache, bool warmup, CancellationToken cancellationToken)
    {
        var prefix = $"r{Interlocked.Increment(ref _run)}";
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        var count = Count(warmup, 15_000);
        var seconds = await Inflight.RunAsync(count, InFlight, async i =>
        {
            var key = $"{prefix}.{i}";
            await cache.SetAsync(key, _value, options, cancellationToken).ConfigureAwait(false);
            await cache.RemoveAsync(key, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
        Interlocked.Add(ref _operations, 2L * count);
        return [count / seconds];
    }

    /// <summary>
    /// Node B holds the key in its HybridCache L1; node A sets a new value; the sample ends when B's HybridCache returns it
    /// (B's L1 eviction by the watch, then B's read from L2).
    /// </summary>
    private async Task<double[]> OursInvalidationAsync(bool warmup, CancellationToken cancellationToken)
    {
        var (a, b, invalidator) = _oursHybrid!.Value;
        var count = Count(warmup, 500);
        var prefix = $"h{Interlocked.Increment(ref _run)}";
        var samples = new long[count];
        string? waitingKey = null;
        TaskCompletionSource? evicted = null;
        void OnApplied(CacheKeyChange change)
        {
            if (change.Key == waitingKey)
            {
                evicted?.TrySetResult();
            }
        }

        invalidator.AppliedChange += OnApplied;
        try
        {
            for (var i = 0; i < count; i++)
            {
                // B holds the previous value in L1 (after the eviction that value's Set caused).
                var key = $"{prefix}.{i % 16}";
                evicted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                waitingKey = key;
                await a.SetAsync(key, i - 1, cancellationToken: cancellationToken).ConfigureAwait(false);
                await evicted.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                _ = await b.GetOrCreateAsync(key, _ => ValueTask.FromResult(-2), cancellationToken: cancellationToken).ConfigureAwait(false);
                evicted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var start = Stopwatch.GetTimestamp();
                await a.SetAsync(key, i, cancellationToken: cancellationToken).ConfigureAwait(false);
                int seen;
                do
                {
                    await evicted.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                    seen = await b.GetOrCreateAsync(key, _ => ValueTask.FromResult(-2), cancellationToken: cancellationToken).ConfigureAwait(false);
                }
                while (seen != i && seen != -2);
                if (seen != i)
                {
                    throw new InvalidOperationException($"B returned {seen}, not {i}");
                }

                samples[i] = Stopwatch.GetTimestamp() - start;
            }
        }
        finally
        {
            invalidator.AppliedChange -= OnApplied;
            waitingKey = null;
        }

        Array.Sort(samples);
        return [Latency.PercentileMicros(samples, 50), Latency.PercentileMicros(samples, 99)];
    }

    private async Task<double[]> PeerInvalidationAsync(bool warmup, CancellationToken cancellationToken)
    {
        var (a, b) = _peerHybrid!.Value;
        var noL1 = new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCache };
        var count = Count(warmup, 500);
        var prefix = $"h{Interlocked.Increment(ref _run)}";
        var samples = new long[count];
        for (var i = 0; i < count; i++)
        {
            var key = $"{prefix}.{i % 16}";
            var start = Stopwatch.GetTimestamp();
            await a.SetAsync(key, i, noL1, cancellationToken: cancellationToken).ConfigureAwait(false);
            var seen = await b.GetOrCreateAsync(key, _ => ValueTask.FromResult(-2), noL1, cancellationToken: cancellationToken).ConfigureAwait(false);
            if (seen != i)
            {
                throw new InvalidOperationException($"B returned {seen}, not {i}");
            }

            samples[i] = Stopwatch.GetTimestamp() - start;
        }

        Array.Sort(samples);
        return [Latency.PercentileMicros(samples, 50), Latency.PercentileMicros(samples, 99)];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var sp in _providers)
        {
            foreach (var hosted in sp.GetServices<IHostedService>())
            {
                await hosted.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            await sp.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var d in _owned)
        {
            await d.DisposeAsync().ConfigureAwait(false);
        }

        _peer?.Dispose();
        if (_redis is not null)
        {
            await _redis.DisposeAsync().ConfigureAwait(false);
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using CacheProvider.Bench.Harness;
using CacheProvider.Caching;
using CacheProvider.Nats;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// The cache's metrics (issue "AddNatsDistributedCache"). Where the peer is the JS client it runs js/bench/kv.mjs;
/// where the comparison is within .NET (sliding vs absolute, near hit vs MemoryCache) both sides run here.
/// </summary>
internal sealed class CacheMetric : IMetric
{
    private const int InFlight = 64;
    private const int Keys = 1000;

    // Both sides of the near-hit metric hold an entry that expires, so both really check a deadline on every hit.
    private static readonly TimeSpan NearHitLifetime = TimeSpan.FromHours(1);
    private static int _run;
    private readonly string _mode;
    private readonly byte[] _value = new byte[1024];
    private readonly List<IAsyncDisposable> _owned = [];
    private NatsDistributedCache _cache = null!;
    private NatsDistributedCache _other = null!;
    private MemoryCache? _memory;
    private NodeScript? _peer;

    public CacheMetric(string mode)
    {
        _mode = mode;
        Random.Shared.NextBytes(_value);
        Outputs = mode switch
        {
            "get-inflight" => [new("cache_get_1KiB_64_inflight_ops_per_s (peer: JS raw KV get)", true)],
            "sliding" => [new("cache_sliding_get_1KiB_64_inflight_ops_per_s (peer: absolute get)", true)],
            "near-hit" => [new("cache_near_hit_TryGet_ns_per_op (peer: MemoryCache.TryGetValue)", false)],
            "invalidation" => [new("cache_cross_instance_invalidation_p50_us (peer: JS watch delivery)", false), new("cache_cross_instance_invalidation_p99_us (peer: JS watch delivery)", false)],
            "expiry-events" => [new("cache_expiry_event_lag_p50_ms (peer: JS watcher)", false), new("cache_expiry_event_lag_p99_ms (peer: JS watcher)", false)],
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown cache metric"),
        };
    }

    public string Name => "cache_" + _mode;

    public IReadOnlyList<MetricOutput> Outputs { get; }

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        NatsDistributedCache NewCache(bool near)
        {
            var connection = new NatsConnection(new NatsOptions { Url = context.ServerUrl, Name = "bench-cache" });
            var cache = new NatsDistributedCache(connection, new NatsDistributedCacheOptions { Bucket = "bench_cache", NearCacheEnabled = near, NearCacheMaxEntries = 100_000 });
            _owned.Add(cache);
            _owned.Add(connection);
            return cache;
        }

        _cache = NewCache(near: _mode is "near-hit" or "invalidation");
        _other = NewCache(near: false);
        await _cache.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
        await _other.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
        if (_mode is "get-inflight" or "invalidation" or "expiry-events")
        {
            _peer = await NodeScript.StartAsync(context, "kv.mjs", ["serve", "--url", context.ServerUrl, "--bucket", "bench_cache_peer"], cancellationToken).ConfigureAwait(false);
        }

        if (_mode == "near-hit")
        {
            _memory = new MemoryCache(new MemoryCacheOptions());
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (_mode is "near-hit" or "invalidation" && !_cache.NearCacheActive && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }
    }

    public Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken) => (_mode, side) switch
    {
        ("get-inflight", Side.Ours) => GetInflightAsync(sliding: false, warmup, cancellationToken),
        ("get-inflight", Side.Peer) => PeerAsync(new { op = "get-inflight", size = 1024, count = Count(warmup, 30_000), keys = Keys, inflight = InFlight }, "ops_per_s", null, cancellationToken),
        ("sliding", Side.Ours) => GetInflightAsync(sliding: true, warmup, cancellationToken),
        ("sliding", Side.Peer) => GetInflightAsync(sliding: false, warmup, cancellationToken),
        ("near-hit", Side.Ours) => NearHitAsync(warmup, cancellationToken),
        ("near-hit", Side.Peer) => Task.FromResult(MemoryHit(warmup)),
        ("invalidation", Side.Ours) => InvalidationAsync(warmup, cancellationToken),
        ("invalidation", Side.Peer) => PeerAsync(new { op = "watch-latency", size = 1024, count = Count(warmup, 1000) }, "p50_us", "p99_us", cancellationToken),
        ("expiry-events", Side.Ours) => ExpiryEventsAsync(warmup, cancellationToken),
        _ => PeerAsync(new { op = "watch-expiry", size = 256, count = Count(warmup, 2000), inflight = InFlight, ttl = "2s" }, "lag_p50_ms", "lag_p99_ms", cancellationToken),
    };

    private static int Count(bool warmup, int full) => warmup ? Math.Max(200, full / 5) : full;

    private async Task<double[]> PeerAsync(object command, string first, string? second, CancellationToken cancellationToken)
    {
        var r = await _peer!.SendAsync(command, TimeSpan.FromSeconds(120), cancellationToken).ConfigureAwait(false);
        return second is null ? [r.GetProperty(first).GetDouble()] : [r.GetProperty(first).GetDouble(), r.GetProperty(second).GetDouble()];
    }

    private async Task<double[]> GetInflightAsync(bool sliding, bool warmup, CancellationToken cancellationToken)
    {
        var count = Count(warmup, 30_000);
        var prefix = $"g{Interlocked.Increment(ref _run)}{(sliding ? "s" : "a")}";
        var options = sliding
            ? new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(10) }
            : new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        var keys = new string[Keys];
        for (var i = 0; i < Keys; i++)
        {
            keys[i] = $"{prefix}.{i}";
            await _other.SetAsync(keys[i], _value, options, cancellationToken).ConfigureAwait(false);
        }

        var seconds = await RunInflightAsync(count, async i =>
        {
            _ = await _other.GetAsync(keys[i % Keys], cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("miss");
        }).ConfigureAwait(false);
        return [count / seconds];
    }

    private async Task<double[]> NearHitAsync(bool warmup, CancellationToken cancellationToken)
    {
        const string key = "near.hit";
        await _cache.SetAsync(key, _value, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = NearHitLifetime }, cancellationToken).ConfigureAwait(false);
        _ = await _cache.GetAsync(key, cancellationToken).ConfigureAwait(false);

        // IBufferDistributedCache (HybridCache's path) into a reused writer: the near hit without allocation.
        // GetAsync must return a fresh byte[] (a shared array could be changed under other readers), so it pays a copy.
        var writer = new System.Buffers.ArrayBufferWriter<byte>(2048);
        var count = warmup ? 100_000 : 1_000_000;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            writer.ResetWrittenCount();
            _ = await _cache.TryGetAsync(key, writer, cancellationToken).ConfigureAwait(false);
        }

        return [Stopwatch.GetElapsedTime(start).TotalNanoseconds / count];
    }

    private double[] MemoryHit(bool warmup)
    {
        const string key = "near.hit";
        var memory = _memory!;
        memory.Set(key, _value, new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = NearHitLifetime });
        var count = warmup ? 100_000 : 1_000_000;
        var start = Stopwatch.GetTimestamp();
        for (var i = 0; i < count; i++)
        {
            _ = memory.TryGetValue(key, out byte[]? _);
        }

        return [Stopwatch.GetElapsedTime(start).TotalNanoseconds / count];
    }

    /// <summary>Set on another instance, time until this instance's near-cache watch processed the change.</summary>
    private async Task<double[]> InvalidationAsync(bool warmup, CancellationToken cancellationToken)
    {
        var count = Count(warmup, 1000);
        var prefix = $"inv{Interlocked.Increment(ref _run)}";
        var samples = new long[count];
        TaskCompletionSource<long>? waiting = null;
        string? waitingKey = null;
        void OnProcessed(string kvKey)
        {
            if (kvKey == waitingKey && waiting is not null)
            {
                waiting?.TrySetResult(Stopwatch.GetTimestamp());
            }
        }

        _cache.WatchProcessed += OnProcessed;
        try
        {
            for (var i = 0; i < count; i++)
            {
                var key = $"{prefix}.{i % 16}";
                waiting = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                waitingKey = key;
                var start = Stopwatch.GetTimestamp();
                await _other.SetAsync(key, _value, new DistributedCacheEntryOptions(), cancellationToken).ConfigureAwait(false);
                var seen = await waiting.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
                samples[i] = seen - start;
            }
        }
        finally
        {
            _cache.WatchProcessed -= OnProcessed;
        }

        Array.Sort(samples);
        return [Latency.PercentileMicros(samples, 50), Latency.PercentileMicros(samples, 99)];
    }

    /// <summary>Keys set with a 2 s TTL; lag = expiry event received − (set acknowledged + TTL).</summary>
    private async Task<double[]> ExpiryEventsAsync(bool warmup, CancellationToken cancellationToken)
    {
        var count = Count(warmup, 2000);
        var prefix = $"exp{Interlocked.Increment(ref _run)}";
        var acked = new ConcurrentDictionary<string, long>();
        var lags = new List<double>(count);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watcher = Task.Run(async () =>
        {
            try
            {
                var events = _other.WatchKeyEventsAsync(stop.Token).GetAsyncEnumerator(stop.Token);
                var next = events.MoveNextAsync();
                started.TrySetResult();
                while (await next.ConfigureAwait(false))
                {
                    var e = events.Current;
                    if (e.Reason == CacheKeyEventReason.Expired && e.Key is not null && acked.TryGetValue(e.Key, out var at))
                    {
                        lags.Add(Stopwatch.GetElapsedTime(at).TotalMilliseconds - 2000);
                        if (lags.Count >= count)
                        {
                            break;
                        }
                    }

                    next = events.MoveNextAsync();
                }

                await events.DisposeAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        await started.Task.ConfigureAwait(false);
        await Task.Delay(300, cancellationToken).ConfigureAwait(false); // the event watch is created on its first MoveNext
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(2) };
        await RunInflightAsync(count, async i =>
        {
            var key = $"{prefix}.{i}";
            await _other.SetAsync(key, _value.AsMemory(0, 256).ToArray(), options, cancellationToken).ConfigureAwait(false);
            acked[key] = Stopwatch.GetTimestamp();
        }).ConfigureAwait(false);
        stop.CancelAfter(TimeSpan.FromSeconds(30));
        await watcher.ConfigureAwait(false);
        lags.Sort();
        return [Percentile(lags, 50), Percentile(lags, 99)];
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static Task<double> RunInflightAsync(int count, Func<int, Task> op) => Inflight.RunAsync(count, InFlight, op);

    public async ValueTask DisposeAsync()
    {
        if (_peer is not null)
        {
            await _peer.DisposeAsync().ConfigureAwait(false);
        }

        foreach (var d in _owned)
        {
            await d.DisposeAsync().ConfigureAwait(false);
        }

        _memory?.Dispose();
    }
}

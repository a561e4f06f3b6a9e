using System.Collections.Concurrent;
using System.Diagnostics;
using CacheProvider.Bench.Harness;
using CacheProvider.Caching;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// The cache's metrics (issue "AddNatsDistributedCache"). Where the peer is the JS client it runs js/bench/kv.mjs;
/// where it is NATS.Net's KV store (a raw get of the same 1 KiB, the floor a cache read on KV can reach) or the
/// comparison is within .NET (sliding vs absolute, near hit vs MemoryCache) both sides run here.
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
    private Exception? _peerError;
    private INatsKVStore? _store;
    private Exception? _storeError;
    private string[]? _storeKeys;

    public CacheMetric(string mode)
    {
        _mode = mode;
        Random.Shared.NextBytes(_value);
        (Outputs, Peers) = mode switch
        {
            "get-inflight" => ((IReadOnlyList<MetricOutput>)[new("cache_get_1KiB_64_inflight_ops_per_s", true)], (IReadOnlyList<Side>)[Side.NatsKv, Side.Js]),
            "tryget-inflight" => ([new("cache_TryGetAsync_1KiB_64_inflight_ops_per_s", true)], [Side.NatsKv]),
            "sliding" => ([new("cache_sliding_get_1KiB_64_inflight_ops_per_s", true)], [Side.Other]),
            "near-hit" => ([new("cache_near_hit_TryGet_ns_per_op", false)], [Side.Other]),
            "invalidation" => ([new("cache_cross_instance_invalidation_p50_us", false), new("cache_cross_instance_invalidation_p99_us", false)], [Side.Js]),
            "expiry-events" => ([new("cache_expiry_event_lag_p50_ms", false), new("cache_expiry_event_lag_p99_ms", false)], [Side.Js]),
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown cache metric"),
        };
    }

    public string Name => "cache_" + _mode;

    public IReadOnlyList<MetricOutput> Outputs { get; }

    public IReadOnlyList<Side> Peers { get; }

    public string PeerLabel(Side peer) => (_mode, peer) switch
    {
        (_, Side.NatsKv) => " (peer: NatsKVStore raw get)",
        ("get-inflight", Side.Js) => " (peer: JS raw KV get)",
        ("sliding", _) => " (peer: absolute get)",
        ("near-hit", _) => " (peer: MemoryCache.TryGetValue)",
        ("invalidation", _) => " (peer: JS watch delivery)",
        _ => " (peer: JS watcher)",
    };

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        NatsDistributedCache NewCache(bool near)
        {
            var connection = new NatsConnection(NatsOpts.Default with { Url = context.ServerUrl, Name = "bench-cache" });
            var cache = new NatsDistributedCache(connection, new NatsDistributedCacheOptions { Bucket = "bench_cache", NearCacheEnabled = near, NearCacheMaxEntries = 100_000 });
            _owned.Add(cache);
            _owned.Add(connection);
            return cache;
        }

        _cache = NewCache(near: _mode is "near-hit" or "invalidation");
        _other = NewCache(near: false);
        await _cache.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
        await _other.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
        if (Peers.Contains(Side.Js))
        {
            try
            {
                _peer = await NodeScript.StartAsync(context, "kv.mjs", ["serve", "--url", context.ServerUrl, "--bucket", "bench_cache_peer"], cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _peerError = ex;
            }
        }

        if (Peers.Contains(Side.NatsKv))
        {
            try
            {
                var connection = new NatsConnection(NatsOpts.Default with { Url = context.ServerUrl, Name = "bench-natskv" });
                _owned.Add(connection);
                await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
                _store = await new NatsKVContext(new NatsJSContext(connection)).CreateStoreAsync(
                    new NatsKVConfig("bench_cache_natskv") { History = 1, LimitMarkerTTL = TimeSpan.FromSeconds(2) }, cancellationToken).ConfigureAwait(false);
                _storeKeys = new string[Keys];
                for (var i = 0; i < Keys; i++)
                {
                    _storeKeys[i] = $"n.{i}";
                    await _store.PutAsync(_storeKeys[i], _value, cancellationToken: cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _storeError = ex;
            }
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
        (_, Side.NatsKv) => NatsKvGetInflightAsync(warmup, cancellationToken),
        ("get-inflight", Side.Ours) => GetInflightAsync(sliding: false, warmup, cancellationToken),
        ("tryget-inflight", Side.Ours) => TryGetInflightAsync(warmup, cancellationToken),
        ("get-inflight", Side.Js) => PeerAsync(new { op = "get-inflight", size = 1024, count = Count(warmup, 30_000), keys = Keys, inflight = InFlight }, "ops_per_s", null, cancellationToken),
        ("sliding", Side.Ours) => GetInflightAsync(sliding: true, warmup, cancellationToken),
        ("sliding", Side.Other) => GetInflightAsync(sliding: false, warmup, cancellationToken),
        ("near-hit", Side.Ours) => NearHitAsync(warmup, cancellationToken),
        ("near-hit", Side.Other) => Task.FromResult(MemoryHit(warmup)),
        ("invalidation", Side.Ours) => InvalidationAsync(warmup, cancellationToken),
        ("invalidation", Side.Js) => PeerAsync(new { op = "watch-latency", size = 1024, count = Count(warmup, 1000) }, "p50_us", "p99_us", cancellationToken),
        ("expiry-events", Side.Ours) => ExpiryEventsAsync(warmup, cancellationToken),
        ("expiry-events", Side.Js) => PeerAsync(new { op = "watch-expiry", size = 256, count = Count(warmup, 2000), inflight = InFlight, ttl = "2s" }, "lag_p50_ms", "lag_p99_ms", cancellationToken),
        _ => throw new NotSupportedException($"{_mode} has no {side} side"),
    };

    private static int Count(bool warmup, int full) => warmup ? Math.Max(200, full / 5) : full;

    private async Task<double[]> PeerAsync(object command, string first, string? second, CancellationToken cancellationToken)
    {
        if (_peerError is not null)
        {
            throw new InvalidOperationException("the JS peer did not start: " + _peerError.Message, _peerError);
        }

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

    /// <summary>IBufferDistributedCache.TryGetAsync (HybridCache's path) of 1 KiB entries into one reused writer per loop.</summary>
    private async Task<double[]> TryGetInflightAsync(bool warmup, CancellationToken cancellationToken)
    {
        var count = Count(warmup, 30_000);
        var prefix = $"t{Interlocked.Increment(ref _run)}";
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        var keys = new string[Keys];
        for (var i = 0; i < Keys; i++)
        {
            keys[i] = $"{prefix}.{i}";
            await _other.SetAsync(keys[i], _value, options, cancellationToken).ConfigureAwait(false);
        }

        var writers = Enumerable.Range(0, InFlight).Select(_ => new System.Buffers.ArrayBufferWriter<byte>(2048)).ToArray();
        var seconds = await Inflight.RunAsync(count, InFlight, async (w, i) =>
        {
            var writer = writers[w];
            writer.ResetWrittenCount();
            if (!await _other.TryGetAsync(keys[i % Keys], writer, cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException("miss");
            }
        }).ConfigureAwait(false);
        return [count / seconds];
    }

    /// <summary>NATS.Net's KV store: the raw get of a 1 KiB value, 64 in flight (no cache logic: expiry, sliding, near cache).</summary>
    private async Task<double[]> NatsKvGetInflightAsync(bool warmup, CancellationToken cancellationToken)
    {
        if (_storeError is not null)
        {
            throw new InvalidOperationException("NatsKVStore setup failed: " + _storeError.Message, _storeError);
        }

        var store = _store!;
        var keys = _storeKeys!;
        var count = Count(warmup, 30_000);
        var seconds = await RunInflightAsync(count, async i =>
        {
            var e = await store.GetEntryAsync<byte[]>(keys[i % Keys], cancellationToken: cancellationToken).ConfigureAwait(false);
            _ = e.Value ?? throw new InvalidOperationException("miss");
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
        if (lags.Count == 0)
        {
            throw new InvalidOperationException($"no expiry event for {count} keys set with a 2 s expiration");
        }

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

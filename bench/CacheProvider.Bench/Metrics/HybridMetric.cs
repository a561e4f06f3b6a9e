using System.Diagnostics;
using CacheProvider.Bench.Harness;
using CacheProvider.Caching;
using CacheProvider.Connection;
using CacheProvider.Hybrid;
using CacheProvider.KeyValue;
using CacheProvider.Testing;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using NATS.Client.Core;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// HybridCache as users would run it, two nodes each: ours (L2 = our NATS cache) against HybridCache over Microsoft's
/// RedisCache on a local Redis 8 (no invalidation: HybridCache has none of its own). GetOrCreate lines: an L1 hit (what
/// most reads are), an L2 read (L1 off: what a read after an invalidation, or on a fresh node, costs), a miss (factory,
/// L1 fill, background L2 write), 64 in flight; and the L2 read sequentially, p50/p99. Each runs with our L2 alone (the
/// like-for-like comparison) and, the lines ending in <c>_with_invalidation</c>, with <c>AddNatsHybridCacheInvalidation</c>
/// on both nodes (what the cross-node guarantee costs: the views, and a bucket watch that sees every write).
/// The stale-read line: 100,000 operations, 10% Sets on node A (values 1, 2, 3, … per key), 90% GetOrCreate reads on
/// node B, 64 in flight on 16 keys; a read is stale when it returns a value older than the newest one B had applied
/// (ours: B's invalidator applied A's change before the read started; peer, which has no invalidation: A's Set had
/// returned before the read started — the earliest moment an invalidation could have been delivered).
/// </summary>
internal sealed class HybridMetric : IMetric
{
    private const int InFlight = 64;
    private const int Keys = 1000;
    private const int StaleKeys = 16;
    private const int StaleOperations = 100_000;
    private static readonly HybridCacheEntryOptions L1Off = new() { Flags = HybridCacheEntryFlags.DisableLocalCache };
    private static readonly HybridCacheEntryOptions ReadOnly = new() { Flags = HybridCacheEntryFlags.DisableUnderlyingData };
    private static int _run;
    private readonly string _mode;
    private readonly bool _invalidation;
    private readonly string _value = new('x', 1000);
    private readonly List<ServiceProvider> _providers = [];
    private RedisServer? _redis;
    private Exception? _redisError;
    private (HybridCache A, HybridCache B, NatsHybridCacheInvalidator? BInvalidator) _ours;
    private (HybridCache A, HybridCache B) _peer;
    private NatsConnection? _staleConnection;
    private KvBucket? _staleBucket;

    public HybridMetric(string mode, bool invalidation = false)
    {
        _mode = mode;
        _invalidation = invalidation || mode == "stale";
        var suffix = invalidation ? "_with_invalidation" : string.Empty;
        Outputs = mode switch
        {
            "l1-hit" => [new("hybrid_getorcreate_l1_hit_64_inflight_ops_per_s" + suffix, true)],
            "l2-read" => [new("hybrid_getorcreate_l2_read_1KB_64_inflight_ops_per_s" + suffix, true)],
            "l2-sequential" => [new("hybrid_getorcreate_l2_read_1KB_p50_us" + suffix, false), new("hybrid_getorcreate_l2_read_1KB_p99_us" + suffix, false)],
            "miss" => [new("hybrid_getorcreate_miss_1KB_64_inflight_ops_per_s" + suffix, true)],
            "stale" => [new("hybrid_stale_reads_after_invalidation_100k", false), new("hybrid_stale_run_invalidation_p50_us", false), new("hybrid_stale_run_invalidation_p99_us", false)],
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown hybrid comparison"),
        };
    }

    public string Name => "hybrid_" + _mode + (_invalidation && _mode != "stale" ? "-invalidation" : string.Empty);

    public IReadOnlyList<MetricOutput> Outputs { get; }

    public IReadOnlyList<Side> Peers { get; } = [Side.Other];

    public string PeerLabel(Side peer) => _mode == "stale"
        ? " (peer: HybridCache on RedisCache, no invalidation)"
        : " (peer: HybridCache on RedisCache)";

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var bucket = "bench_hybrid_" + _mode.Replace('-', '_') + (_invalidation ? "_inv" : string.Empty);
        var a = await StartNodeAsync(context.ServerUrl, bucket, cancellationToken).ConfigureAwait(false);
        var b = await StartNodeAsync(context.ServerUrl, bucket, cancellationToken).ConfigureAwait(false);
        _ours = (a.GetRequiredService<HybridCache>(), b.GetRequiredService<HybridCache>(), b.GetService<NatsHybridCacheInvalidator>());
        if (_mode == "stale")
        {
            // Reads the revision each of A's Sets was stored at, to know which value a change B applied carried.
            _staleConnection = new NatsConnection(NatsOpts.Default with { Url = context.ServerUrl, Name = "bench-stale-revisions" });
            _staleBucket = await new KvContext(_staleConnection).GetBucketAsync(bucket, cancellationToken).ConfigureAwait(false);
        }

        try
        {
            _redis = await RedisServer.StartAsync().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            _peer = (RedisNode(_redis.Configuration).GetRequiredService<HybridCache>(), RedisNode(_redis.Configuration).GetRequiredService<HybridCache>());
            await _peer.A.SetAsync("warmup", 1, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _redisError = ex;
        }
    }

    private async Task<ServiceProvider> StartNodeAsync(string url, string bucket, CancellationToken cancellationToken)
    {
        var services = new ServiceCollection()
            .AddNatsConnection(o => o.Url = url)
            .AddNatsDistributedCache(o => o.Bucket = bucket)
            .AddHybridCache().Services;
        if (_invalidation)
        {
            services.AddNatsHybridCacheInvalidation();
        }

        var sp = services.BuildServiceProvider();
        _providers.Add(sp);
        foreach (var hosted in sp.GetServices<IHostedService>())
        {
            await hosted.StartAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_invalidation)
        {
            await sp.GetRequiredService<NatsHybridCacheInvalidator>().WhenActive.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        }

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

        var (a, b) = side == Side.Ours ? (_ours.A, _ours.B) : (_peer.A, _peer.B);
        return _mode switch
        {
            "l1-hit" => ReadInflightAsync(a, b, options: null, warmup, cancellationToken),
            "l2-read" => ReadInflightAsync(a, b, L1Off, warmup, cancellationToken),
            "l2-sequential" => ReadSequentialAsync(a, b, warmup, cancellationToken),
            "miss" => MissInflightAsync(b, warmup, cancellationToken),
            "stale" => StaleAsync(a, b, side == Side.Ours ? _ours.BInvalidator : null, warmup, cancellationToken),
            _ => throw new NotSupportedException(_mode),
        };
    }

    private static int Count(bool warmup, int full) => warmup ? Math.Max(200, full / 5) : full;

    /// <summary>Node A sets the keys (L2); node B reads them, once first so an L1 hit run finds them in L1.</summary>
    private async Task<string[]> FillAsync(HybridCache a, HybridCache b, CancellationToken cancellationToken)
    {
        var prefix = $"h{Interlocked.Increment(ref _run)}";
        var keys = new string[Keys];
        for (var i = 0; i < Keys; i++)
        {
            keys[i] = $"{prefix}.{i}";
        }

        await Inflight.RunAsync(Keys, InFlight, i => a.SetAsync(keys[i], _value, cancellationToken: cancellationToken).AsTask()).ConfigureAwait(false);
        await Inflight.RunAsync(Keys, InFlight, async i => _ = await b.GetOrCreateAsync(keys[i], NoFactory, ReadOnly, cancellationToken: cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return keys;
    }

    private static ValueTask<string?> NoFactory(CancellationToken _) => ValueTask.FromResult<string?>(null);

    private async Task<double[]> ReadInflightAsync(HybridCache a, HybridCache b, HybridCacheEntryOptions? options, bool warmup, CancellationToken cancellationToken)
    {
        var keys = await FillAsync(a, b, cancellationToken).ConfigureAwait(false);
        var count = Count(warmup, options is null ? 300_000 : 30_000);
        var seconds = await Inflight.RunAsync(count, InFlight, async i =>
        {
            _ = await b.GetOrCreateAsync(keys[i % Keys], _ => ValueTask.FromResult<string?>(null), options, cancellationToken: cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("miss");
        }).ConfigureAwait(false);
        return [count / seconds];
    }

    private async Task<double[]> ReadSequentialAsync(HybridCache a, HybridCache b, bool warmup, CancellationToken cancellationToken)
    {
        var keys = await FillAsync(a, b, cancellationToken).ConfigureAwait(false);
        var count = Count(warmup, 5000);
        var samples = new long[count];
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            _ = await b.GetOrCreateAsync(keys[i % Keys], _ => ValueTask.FromResult<string?>(null), L1Off, cancellationToken: cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("miss");
            samples[i] = Stopwatch.GetTimestamp() - start;
        }

        Array.Sort(samples);
        return [Latency.PercentileMicros(samples, 50), Latency.PercentileMicros(samples, 99)];
    }

    /// <summary>Fresh keys: L1 and L2 miss, the factory runs, HybridCache fills L1 and writes L2 after returning.</summary>
    private async Task<double[]> MissInflightAsync(HybridCache b, bool warmup, CancellationToken cancellationToken)
    {
        var prefix = $"m{Interlocked.Increment(ref _run)}";
        var count = Count(warmup, 20_000);
        var seconds = await Inflight.RunAsync(count, InFlight, async i =>
        {
            _ = await b.GetOrCreateAsync($"{prefix}.{i}", _ => ValueTask.FromResult(_value), cancellationToken: cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);

        // The L2 writes HybridCache made after returning must not run into the next measurement.
        var last = $"{prefix}.{count - 1}";
        var drain = Stopwatch.StartNew();
        while (await b.GetOrCreateAsync(last, NoFactory, new HybridCacheEntryOptions { Flags = HybridCacheEntryFlags.DisableLocalCache | HybridCacheEntryFlags.DisableUnderlyingData }, cancellationToken: cancellationToken).ConfigureAwait(false) is null
            && drain.Elapsed < TimeSpan.FromSeconds(30))
        {
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }

        return [count / seconds];
    }

    private async Task<double[]> StaleAsync(HybridCache a, HybridCache b, NatsHybridCacheInvalidator? invalidator, bool warmup, CancellationToken cancellationToken)
    {
        var prefix = $"s{Interlocked.Increment(ref _run)}.";
        var total = Count(warmup, StaleOperations);
        var written = new long[StaleKeys];   // values handed to A's Sets, per key (1, 2, 3, …)
        var locks = Enumerable.Range(0, StaleKeys).Select(_ => new SemaphoreSlim(1, 1)).ToArray();
        var ledger = new StaleReadLedger(StaleKeys, total);
        void OnApplied(CacheKeyChange change)
        {
            if (change.Key is { } key && key.StartsWith(prefix, StringComparison.Ordinal))
            {
                ledger.Applied(int.Parse(key.AsSpan(prefix.Length)), change.Revision);
            }
        }

        if (invalidator is not null)
        {
            invalidator.AppliedChange += OnApplied;
        }

        try
        {
            await Inflight.RunAsync(total, InFlight, async i =>
            {
                var k = i % 10 == 0 ? i / 10 % StaleKeys : (int)((uint)(i * 7919) % StaleKeys);
                var key = prefix + k;
                if (i % 10 == 0)
                {
                    // One Set per key at a time, so A's writes of a key reach the bucket in value order, and the key's
                    // latest revision read right after a Set is that Set's.
                    await locks[k].WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        var n = ++written[k];
                        await a.SetAsync(key, n, cancellationToken: cancellationToken).ConfigureAwait(false);
                        var returnedAt = Stopwatch.GetTimestamp();
                        if (invalidator is null)
                        {
                            ledger.SetReturned(k, n, returnedAt, 0);
                            ledger.Delivered(k, n);
                        }
                        else
                        {
                            var stored = await _staleBucket!.GetLastAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
                            ledger.SetReturned(k, n, returnedAt, stored?.Revision ?? 0);
                        }
                    }
                    finally
                    {
                        locks[k].Release();
                    }
                }
                else
                {
                    var start = Stopwatch.GetTimestamp();
                    var value = await b.GetOrCreateAsync(key, _ => ValueTask.FromResult(0L), ReadOnly, cancellationToken: cancellationToken).ConfigureAwait(false);
                    ledger.Read(k, start, value);
                }
            }).ConfigureAwait(false);
        }
        finally
        {
            if (invalidator is not null)
            {
                invalidator.AppliedChange -= OnApplied;
            }
        }

        var (stale, deliveries) = ledger.Judge();
        return invalidator is null
            ? [stale, double.NaN, double.NaN]
            : [stale, Latency.PercentileMicros(deliveries, 50), Latency.PercentileMicros(deliveries, 99)];
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

        if (_redis is not null)
        {
            await _redis.DisposeAsync().ConfigureAwait(false);
        }

        if (_staleConnection is not null)
        {
            await _staleConnection.DisposeAsync().ConfigureAwait(false);
        }
    }
}

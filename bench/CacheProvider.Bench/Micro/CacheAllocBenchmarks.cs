using System.Buffers;
using BenchmarkDotNet.Attributes;
using CacheProvider.Caching;
using CacheProvider.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;

namespace CacheProvider.Bench.Micro;

/// <summary>
/// Bytes allocated per remote cache read of a 1 KiB entry (no near cache): <c>TryGetAsync</c> into a reused pooled
/// writer (goal ≤ 256 B) and <c>GetAsync</c> (which must return a new array). Counts every thread of the process.
/// Also the near-cache hit against <c>MemoryCache.TryGetValue</c>, timed the same way (goal: ratio ≤ 2), and the floor
/// of a remote read: NATS.Net's KV store getting the same 1 KiB (<c>GetEntryAsync&lt;byte[]&gt;</c>, no cache logic).
/// </summary>
[MemoryDiagnoser]
public class CacheAllocBenchmarks
{
    private const int Batch = 1_000;
    private readonly ArrayBufferWriter<byte> _writer = new(4096);
    private NatsServer? _server;
    private NatsConnection? _nats;
    private NatsDistributedCache? _cache;
    private NatsDistributedCache? _nearCache;
    private MemoryCache? _memory;
    private NatsConnection? _peerNats;
    private INatsKVStore? _store;

    // Synchronous on purpose: the in-process toolchain runs setup on the benchmark thread; no await left behind.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _server = await NatsServer.StartAsync(output: null);
        _nats = new NatsConnection(NatsOpts.Default with { Url = _server.Url, Name = "bench-bdn-cache" });
        await _nats.ConnectAsync();
        _cache = new NatsDistributedCache(_nats, new NatsDistributedCacheOptions { Bucket = "bdn_cache" });
        await _cache.SetAsync("key", new byte[1024], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) });

        // The near-hit pair: the same 1 KiB value with the same absolute expiration on both sides.
        _nearCache = new NatsDistributedCache(_nats, new NatsDistributedCacheOptions { Bucket = "bdn_cache", NearCacheEnabled = true });
        _ = await _nearCache.GetAsync("key");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!_nearCache.NearCacheActive && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        await _nearCache.SetAsync("near.hit", new byte[1024], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) });
        if (!_nearCache.NearCacheActive || _nearCache.NearCacheCount == 0)
        {
            throw new InvalidOperationException("the near cache did not come up");
        }

        _peerNats = new NatsConnection(NatsOpts.Default with { Url = _server.Url, Name = "bench-bdn-natskv" });
        await _peerNats.ConnectAsync();
        _store = await new NatsKVContext(new NatsJSContext(_peerNats)).CreateStoreAsync(new NatsKVConfig("bdn_cache_natskv") { LimitMarkerTTL = TimeSpan.FromSeconds(2) });
        await _store.PutAsync("key", new byte[1024]);

        _memory = new MemoryCache(new MemoryCacheOptions());
        _memory.Set("near.hit", new byte[1024], new MemoryCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromHours(1) });
    }

    private async Task CleanupAsync()
    {
        if (_cache is not null)
        {
            await _cache.DisposeAsync();
        }

        if (_nearCache is not null)
        {
            await _nearCache.DisposeAsync();
        }

        _memory?.Dispose();

        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }

        if (_peerNats is not null)
        {
            await _peerNats.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Remote read copied straight from the receive buffer into a reused writer.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task TryGet1KiBIntoPooledWriter()
    {
        var cache = _cache!;
        for (var i = 0; i < Batch; i++)
        {
            _writer.ResetWrittenCount();
            if (!await cache.TryGetAsync("key", _writer))
            {
                throw new InvalidOperationException("miss");
            }
        }
    }

    /// <summary>Near-cache hit copied into a reused writer (the side-by-side metric's "ours"; goal ≤ 2× the next one).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task NearHitTryGetIntoPooledWriter()
    {
        var cache = _nearCache!;
        for (var i = 0; i < Batch; i++)
        {
            _writer.ResetWrittenCount();
            if (!await cache.TryGetAsync("near.hit", _writer))
            {
                throw new InvalidOperationException("near miss");
            }
        }
    }

    /// <summary>The peer of <see cref="NearHitTryGetIntoPooledWriter"/>: MemoryCache.TryGetValue of the equivalent entry.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public bool MemoryCacheTryGetValue()
    {
        var memory = _memory!;
        var hit = true;
        for (var i = 0; i < Batch; i++)
        {
            hit &= memory.TryGetValue("near.hit", out byte[]? _);
        }

        return hit;
    }

    /// <summary>The peer of <see cref="TryGet1KiBIntoPooledWriter"/>: NATS.Net's KV store getting the same 1 KiB as a new array.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task NatsKvGetEntry1KiB()
    {
        var store = _store!;
        for (var i = 0; i < Batch; i++)
        {
            var e = await store.GetEntryAsync<byte[]>("key");
            _ = e.Value ?? throw new InvalidOperationException("miss");
        }
    }

    /// <summary>Remote read returning a new array (the IDistributedCache contract).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task Get1KiB()
    {
        var cache = _cache!;
        for (var i = 0; i < Batch; i++)
        {
            _ = await cache.GetAsync("key");
        }
    }
}

using System.Buffers;
using BenchmarkDotNet.Attributes;
using CacheProvider.Caching;
using CacheProvider.Nats;
using CacheProvider.Testing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;

namespace CacheProvider.Bench.Micro;

/// <summary>
/// Bytes allocated per remote cache read of a 1 KiB entry (no near cache): <c>TryGetAsync</c> into a reused pooled
/// writer (goal ≤ 256 B) and <c>GetAsync</c> (which must return a new array). Counts every thread of the process.
/// Also the near-cache hit against <c>MemoryCache.TryGetValue</c>, timed the same way (goal: ratio ≤ 2).
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

    // Synchronous on purpose: BenchmarkDotNet 0.14's in-process toolchain does not await async setup/cleanup.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _server = await NatsServer.StartAsync(output: null);
        _nats = new NatsConnection(new NatsOptions { Url = _server.Url, Name = "bench-bdn-cache" });
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
            _ = await cache.TryGetAsync("key", _writer);
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

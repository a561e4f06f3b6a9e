using System.Buffers;
using BenchmarkDotNet.Attributes;
using CacheProvider.Caching;
using CacheProvider.Nats;
using CacheProvider.Testing;
using Microsoft.Extensions.Caching.Distributed;

namespace CacheProvider.Bench.Micro;

/// <summary>
/// Bytes allocated per remote cache read of a 1 KiB entry (no near cache): <c>TryGetAsync</c> into a reused pooled
/// writer (goal ≤ 256 B) and <c>GetAsync</c> (which must return a new array). Counts every thread of the process.
/// </summary>
[MemoryDiagnoser]
public class CacheAllocBenchmarks
{
    private const int Batch = 1_000;
    private readonly ArrayBufferWriter<byte> _writer = new(4096);
    private NatsServer? _server;
    private NatsConnection? _nats;
    private NatsDistributedCache? _cache;

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
    }

    private async Task CleanupAsync()
    {
        if (_cache is not null)
        {
            await _cache.DisposeAsync();
        }

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

using System.Buffers;
using BenchmarkDotNet.Attributes;
using CacheProvider.Nats;
using CacheProvider.Nats.KeyValue;
using CacheProvider.Testing;

namespace CacheProvider.Bench.Micro;

/// <summary>
/// Bytes allocated per KV Get against a live server: the plain Get (value copied into a new array) and the Get
/// into a reused pooled writer (value copied straight from the receive buffer). Includes every thread of the
/// process, so the read and write loops' share is counted too.
/// </summary>
[MemoryDiagnoser]
public class KvAllocBenchmarks
{
    private const int Batch = 1_000;
    private readonly ArrayBufferWriter<byte> _writer = new(2048);
    private NatsServer? _server;
    private NatsConnection? _nats;
    private KvBucket? _bucket;

    /// <summary>Value size.</summary>
    [Params(256, 1024)]
    public int Size { get; set; }

    // Synchronous on purpose: BenchmarkDotNet 0.14's in-process toolchain does not await async setup/cleanup.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _server = await NatsServer.StartAsync(output: null);
        _nats = new NatsConnection(new NatsOptions { Url = _server.Url, Name = "bench-bdn-kv" });
        _bucket = await new KvContext(_nats).CreateBucketAsync(new KvBucketConfig { Bucket = "bdn", LimitMarkerTtl = TimeSpan.FromSeconds(2) });
        await _bucket.PutAsync("key", new byte[Size]);
    }

    private async Task CleanupAsync()
    {
        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>Get returning an entry with its own copy of the value.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task KvGet()
    {
        var bucket = _bucket!;
        for (var i = 0; i < Batch; i++)
        {
            _ = await bucket.GetAsync("key");
        }
    }

    /// <summary>Get writing the value into a reused buffer writer.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task KvGetIntoPooledWriter()
    {
        var bucket = _bucket!;
        for (var i = 0; i < Batch; i++)
        {
            _writer.ResetWrittenCount();
            _ = await bucket.GetAsync("key", _writer);
        }
    }
}

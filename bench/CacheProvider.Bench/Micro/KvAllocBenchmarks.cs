using System.Buffers;
using BenchmarkDotNet.Attributes;
using CacheProvider.KeyValue;
using CacheProvider.Testing;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace CacheProvider.Bench.Micro;

/// <summary>
/// Bytes allocated (and time) per KV get against a live server: ours returning an entry with its own copy of the value,
/// ours into a reused pooled writer (value copied straight from the receive buffer), and the peer, NATS.Net's
/// <see cref="NatsKVStore.GetEntryAsync{T}"/> of <c>byte[]</c>, on a bucket configured alike. Counts every thread of
/// the process, so the connection's read and write loops' share is counted too (each side has its own connection).
/// </summary>
[MemoryDiagnoser]
public class KvAllocBenchmarks
{
    /// <summary>Gets per benchmark invocation: background allocations (pings, timers) spread over this many.</summary>
    public const int Batch = 1_000;
    private readonly ArrayBufferWriter<byte> _writer = new(2048);
    private NatsServer? _server;
    private NatsConnection? _nats;
    private NatsConnection? _peerNats;
    private KvBucket? _bucket;
    private INatsKVStore? _store;

    /// <summary>Value size.</summary>
    [Params(256, 1024)]
    public int Size { get; set; }

    // Synchronous on purpose: the in-process toolchain runs setup on the benchmark thread; no await left behind.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _server = await NatsServer.StartAsync(output: null);
        _nats = new NatsConnection(NatsOpts.Default with { Url = _server.Url, Name = "bench-bdn-kv" });
        var kv = new KvContext(_nats);
        await kv.ConnectAsync();
        _bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "bdn", LimitMarkerTtl = TimeSpan.FromSeconds(2) });
        await _bucket.PutAsync("key", new byte[Size]);

        _peerNats = new NatsConnection(NatsOpts.Default with { Url = _server.Url, Name = "bench-bdn-natskv" });
        await _peerNats.ConnectAsync();
        _store = await new NatsKVContext(new NatsJSContext(_peerNats)).CreateStoreAsync(new NatsKVConfig("bdn_natskv") { LimitMarkerTTL = TimeSpan.FromSeconds(2) });
        await _store.PutAsync("key", new byte[Size]);
    }

    private async Task CleanupAsync()
    {
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

    /// <summary>Get returning an entry with its own copy of the value.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task KvGet()
    {
        var bucket = _bucket!;
        for (var i = 0; i < Batch; i++)
        {
            _ = await bucket.GetAsync("key") ?? throw new InvalidOperationException("miss");
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
            _ = await bucket.GetAsync("key", _writer) ?? throw new InvalidOperationException("miss");
        }
    }

    /// <summary>The peer: NATS.Net's KV store, <c>GetEntryAsync&lt;byte[]&gt;</c> (a new array per get, like <see cref="KvGet"/>).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task NatsKvGetEntry()
    {
        var store = _store!;
        for (var i = 0; i < Batch; i++)
        {
            var e = await store.GetEntryAsync<byte[]>("key");
            _ = e.Value ?? throw new InvalidOperationException("miss");
        }
    }
}

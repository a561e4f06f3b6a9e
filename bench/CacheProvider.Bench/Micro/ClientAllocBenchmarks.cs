using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using CacheProvider.Bench.Harness;
using CacheProvider.Nats;
using CacheProvider.Testing;

namespace CacheProvider.Bench.Micro;

/// <summary>
/// Allocations (and time) per operation of our publish and request paths against a live nats-server:
/// <c>./build.sh bench --bdn</c>. Runs in process (no generated project to build), so the MemoryDiagnoser's count
/// covers every thread of this process: the caller, the write loop and the read loop. The echo responder is the
/// node script, in its own process, so its allocations are not counted.
/// </summary>
[MemoryDiagnoser]
public class ClientAllocBenchmarks
{
    private const int Batch = 1_000;
    private const string EchoSubject = "bench.bdn.echo";
    private readonly byte[] _payload = new byte[128];
    private readonly NatsHeaders _headers = new() { { "Nats-TTL", "30s" }, { "KV-Operation", "PUT" } };
    private NatsServer? _server;
    private NatsConnection? _nats;
    private NodeScript? _responder;

    /// <summary>Runs the benchmarks with BenchmarkDotNet command-line <paramref name="args"/> (e.g. <c>--filter *Request*</c>).</summary>
    public static int Run(string[] args, params Type[] benchmarks)
    {
        var job = Job.Default
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(3)
            .WithIterationCount(10)
            .WithMinIterationTime(TimeInterval.FromMilliseconds(200));
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default);
        // The switcher applies --filter across all classes (a per-class run fails on a class the filter empties).
        var summaries = BenchmarkSwitcher.FromTypes(benchmarks).Run(args.Length == 0 ? ["--filter", "*"] : args, config);
        return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
    }

    // Synchronous on purpose: BenchmarkDotNet 0.14's in-process toolchain does not await async setup/cleanup.
    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    private async Task SetupAsync()
    {
        _server = await NatsServer.StartAsync(output: null, jetStream: false);
        var context = new BenchContext(_server.Url, Path.Combine(NatsServerLocator.RepositoryRoot, "js"), TextWriter.Synchronized(Console.Error));
        _responder = await NodeScript.StartAsync(context, "responder.mjs", ["--url", _server.Url, "--subject", EchoSubject], CancellationToken.None);
        _nats = new NatsConnection(new NatsOptions { Url = _server.Url, Name = "bench-bdn" });
        await _nats.ConnectAsync();
    }

    private async Task CleanupAsync()
    {
        if (_nats is not null)
        {
            await _nats.DisposeAsync();
        }

        if (_responder is not null)
        {
            await _responder.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>PUB of 128 B; a flush per 1,000 so the write loop's cost is inside the measurement.</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task Publish128B()
    {
        var nats = _nats!;
        for (var i = 0; i < Batch; i++)
        {
            await nats.PublishAsync("bench.bdn.pub", _payload);
        }

        await nats.FlushAsync();
    }

    /// <summary>HPUB of 128 B with two headers (the shape of a KV put with TTL).</summary>
    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task Publish128BWithHeaders()
    {
        var nats = _nats!;
        for (var i = 0; i < Batch; i++)
        {
            await nats.PublishAsync("bench.bdn.pub", _payload, _headers);
        }

        await nats.FlushAsync();
    }

    /// <summary>One request/reply round trip of 128 B each way to the node echo responder.</summary>
    [Benchmark]
    public async Task<int> Request128B()
    {
        var reply = await _nats!.RequestAsync(EchoSubject, _payload);
        return reply.Data.Length;
    }
}

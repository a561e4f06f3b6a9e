using System.Globalization;
using CacheProvider.Bench.Harness;
using CacheProvider.Caching;
using CacheProvider.Testing;
using Microsoft.Extensions.Caching.Distributed;
using NATS.Client.Core;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// What <see cref="NatsDistributedCacheOptions.IdempotentWrites"/> costs (issue #24): ours = every Set with a
/// <c>Nats-Msg-Id</c> (the server keeps one de-duplication entry per Set for the bucket's duplicate window, 2 min),
/// peer = the same cache without. Set 1 KiB with 64 in flight, and how much the nats-server's resident memory grew per
/// Set during the run (its own server, so nothing else moves the number; Go returns memory lazily, so the peer's
/// growth is near zero and ours is an upper bound of the entries' cost).
/// </summary>
internal sealed class DedupeCostMetric : IMetric
{
    private const int InFlight = 64;
    private const int Keys = 1000;
    private readonly byte[] _value = new byte[1024];
    private NatsServer? _server;
    private NatsConnection? _connection;
    private NatsDistributedCache? _with;
    private NatsDistributedCache? _without;
    private int _run;

    public string Name => "dedupe";

    public IReadOnlyList<MetricOutput> Outputs { get; } =
    [
        new("cache_set_idempotent_1KiB_64_inflight_ops_per_s", true),
        new("nats_server_rss_growth_per_idempotent_set_bytes", false),
    ];

    public IReadOnlyList<Side> Peers { get; } = [Side.Other];

    public string PeerLabel(Side peer) => " (peer: IdempotentWrites off)";

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        _server = await NatsServer.StartAsync().ConfigureAwait(false);
        _connection = new NatsConnection(NatsOpts.Default with { Url = _server.Url, Name = "bench-dedupe" });
        _with = new NatsDistributedCache(_connection, new NatsDistributedCacheOptions { Bucket = "bench_dedupe", IdempotentWrites = true });
        _without = new NatsDistributedCache(_connection, new NatsDistributedCacheOptions { Bucket = "bench_dedupe", IdempotentWrites = false });
        await _with.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
        await _without.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
    }

    public async Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken)
    {
        var cache = side == Side.Ours ? _with! : _without!;
        var prefix = $"d{Interlocked.Increment(ref _run)}";
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        var count = warmup ? 5_000 : 50_000;
        var before = ResidentBytes(_server!.Pid);
        var seconds = await Inflight.RunAsync(count, InFlight, i => cache.SetAsync($"{prefix}.{i % Keys}", _value, options, cancellationToken)).ConfigureAwait(false);
        var after = ResidentBytes(_server.Pid);
        return [count / seconds, Math.Max(0, after - before) / (double)count];
    }

    private static long ResidentBytes(int? pid)
    {
        if (pid is null)
        {
            return 0;
        }

        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    public async ValueTask DisposeAsync()
    {
        if (_with is not null)
        {
            await _with.DisposeAsync().ConfigureAwait(false);
        }

        if (_without is not null)
        {
            await _without.DisposeAsync().ConfigureAwait(false);
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }
}

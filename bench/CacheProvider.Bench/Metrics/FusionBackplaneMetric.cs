using System.Diagnostics;
using CacheProvider.Bench.Harness;
using CacheProvider.FusionCache;
using CacheProvider.Testing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;
using ZFusionCache = ZiggyCreatures.Caching.Fusion.FusionCache;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// FusionCache backplane (issue #16): two FusionCache nodes in this process, each with its own connection, sharing one
/// in-memory L2 so that only the backplane differs. One Set on node A, then node B is read until its L1 serves the new
/// value (it has the old one until the backplane message evicts it; the read after that comes from L2). Ours: the NATS
/// backplane on the bench's nats-server. Peer: FusionCache's own StackExchange.Redis backplane on a local Redis 8.
/// Messages per Set are counted on the wire by a third subscriber of the backplane channel.
/// </summary>
internal sealed class FusionBackplaneMetric : IMetric
{
    private const int Sets = 1000;
    private const int WarmupSets = 200;
    private const string CacheName = "bench-fusion";
    private static readonly TimeSpan Stuck = TimeSpan.FromSeconds(10);

    private readonly List<IAsyncDisposable> _owned = [];
    private readonly List<IDisposable> _ownedSync = [];
    private Pair? _ours;
    private Pair? _peer;
    private Exception? _peerError;
    private int _value;

    public string Name => "fusion_backplane";

    public IReadOnlyList<MetricOutput> Outputs { get; } =
    [
        new("fusion_backplane_set_to_remote_l1_new_value_p50_us", false),
        new("fusion_backplane_set_to_remote_l1_new_value_p99_us", false),
        new("fusion_backplane_messages_per_set", false),
    ];

    public IReadOnlyList<Side> Peers { get; } = [Side.Other];

    public string PeerLabel(Side peer) => " (peer: FusionCache StackExchangeRedis backplane, Redis 8)";

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        _ours = await SetupOursAsync(context, cancellationToken).ConfigureAwait(false);
        try
        {
            _peer = await SetupPeerAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _peerError = ex;
        }
    }

    private async Task<Pair> SetupOursAsync(BenchContext context, CancellationToken cancellationToken)
    {
        async Task<NatsConnection> ConnectAsync(string name)
        {
            var connection = new NatsConnection(NatsOpts.Default with { Url = context.ServerUrl, Name = name });
            _owned.Add(connection);
            await connection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }

        var l2 = NewL2();
        var backplaneA = new NatsBackplane(await ConnectAsync("bench-fusion-a").ConfigureAwait(false));
        var a = NewCache(l2, backplaneA);
        var b = NewCache(l2, new NatsBackplane(await ConnectAsync("bench-fusion-b").ConfigureAwait(false)));

        var counter = await ConnectAsync("bench-fusion-count").ConfigureAwait(false);
        var sub = await counter.SubscribeCoreAsync<byte[]>(backplaneA.Subject!, cancellationToken: cancellationToken).ConfigureAwait(false);
        _owned.Add(sub);
        await counter.PingAsync(cancellationToken).ConfigureAwait(false);
        var pair = new Pair(a, b);
        _ = Task.Run(async () =>
        {
            await foreach (var unused in sub.Msgs.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                Interlocked.Increment(ref pair.WireMessages);
            }
        }, CancellationToken.None);
        return pair;
    }

    private async Task<Pair> SetupPeerAsync(CancellationToken cancellationToken)
    {
        var redis = await RedisServer.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        _owned.Add(redis);
        RedisBackplane NewBackplane() => new(new RedisBackplaneOptions { Configuration = redis.Configuration });

        var l2 = NewL2();
        var a = NewCache(l2, NewBackplane());
        var b = NewCache(l2, NewBackplane());

        var counter = await ConnectionMultiplexer.ConnectAsync(redis.Configuration).WaitAsync(cancellationToken).ConfigureAwait(false);
        _owned.Add(counter);
        var pair = new Pair(a, b);
        await counter.GetSubscriber().SubscribeAsync(RedisChannel.Literal(CacheName + ".Backplane:v2"), (_, _) => Interlocked.Increment(ref pair.WireMessages)).ConfigureAwait(false);
        return pair;
    }

    private MemoryDistributedCache NewL2() => new(Options.Create(new MemoryDistributedCacheOptions()));

    private ZFusionCache NewCache(IDistributedCache l2, IFusionCacheBackplane backplane)
    {
        var cache = new ZFusionCache(new FusionCacheOptions
        {
            CacheName = CacheName,
            WaitForInitialBackplaneSubscribe = true,
            DefaultEntryOptions = new FusionCacheEntryOptions(TimeSpan.FromMinutes(10)),
        });
        cache.SetupDistributedCache(l2, new FusionCacheSystemTextJsonSerializer());
        cache.SetupBackplane(backplane);
        _ownedSync.Add(cache);
        return cache;
    }

    public async Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken)
    {
        var pair = side == Side.Ours ? _ours! : _peer ?? throw new InvalidOperationException("Redis peer setup failed: " + _peerError?.Message, _peerError);
        var n = warmup ? WarmupSets : Sets;
        var ticks = new long[n];
        var wireBefore = Interlocked.Read(ref pair.WireMessages);
        for (var i = 0; i < n; i++)
        {
            var value = Interlocked.Increment(ref _value);
            var start = Stopwatch.GetTimestamp();
            await pair.A.SetAsync("product", value, token: cancellationToken).ConfigureAwait(false);
            while (await pair.B.GetOrDefaultAsync<int>("product", token: cancellationToken).ConfigureAwait(false) != value)
            {
                if (Stopwatch.GetElapsedTime(start) > Stuck)
                {
                    throw new TimeoutException($"node B never served value {value}");
                }

                await Task.Yield();
            }

            ticks[i] = Stopwatch.GetTimestamp() - start;
        }

        // Node A publishes in the background: let the counter see the last messages before reading it.
        var wire = Interlocked.Read(ref pair.WireMessages);
        for (var settle = Stopwatch.StartNew(); settle.Elapsed < TimeSpan.FromSeconds(2); )
        {
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            var now = Interlocked.Read(ref pair.WireMessages);
            if (now == wire && now - wireBefore >= n)
            {
                break;
            }

            wire = now;
        }

        Array.Sort(ticks);
        return [Latency.PercentileMicros(ticks, 50), Latency.PercentileMicros(ticks, 99), (wire - wireBefore) / (double)n];
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var d in _ownedSync)
        {
            d.Dispose();
        }

        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            await _owned[i].DisposeAsync().ConfigureAwait(false);
        }
    }

    private sealed class Pair(IFusionCache a, IFusionCache b)
    {
        public long WireMessages;

        public IFusionCache A { get; } = a;

        public IFusionCache B { get; } = b;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using CacheProvider.Bench.Harness;
using CacheProvider.Caching;
using CacheProvider.Connection;
using CacheProvider.Testing;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using NATS.Client.Core;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// Issue #24: 64 writers Set 1 KiB values while the server is killed with SIGKILL and started again one second later on
/// the same port and store (ours: nats-server with its file store; peer: RedisCache on redis-server 8 with an
/// append-only file fsynced per write, so both keep what they acknowledged). Each side uses its client's recommended
/// settings: ours the connection <c>AddNatsConnection</c> registers (reconnect 100 ms → 500 ms), RedisCache
/// StackExchange.Redis' defaults. Measured from the moment the restarted server is listening (nats-server: ready and
/// answering INFO; Redis: answering PING): the first acknowledged Set, and the moment every one of the 64 writers has
/// had a Set acknowledged; how long a call that was in flight at the kill and failed waited after the kill; and how
/// many acknowledged Sets were missing afterwards.
/// </summary>
internal sealed class RecoveryMetric : IMetric
{
    private const int Writers = 64;
    private const int KeysPerWriter = 8;
    private static readonly TimeSpan Down = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxRecovery = TimeSpan.FromSeconds(20);
    private readonly byte[] _value = new byte[1024];
    private NatsServer? _nats;
    private NatsConnection? _connection;
    private NatsDistributedCache? _ours;
    private RedisServer? _redis;
    private RedisCache? _peer;
    private Exception? _redisError;
    private readonly bool _idempotent;
    private int _run;

    /// <param name="idempotent">Our cache's <see cref="NatsDistributedCacheOptions.IdempotentWrites"/> (the default, on):
    /// Sets in flight at the kill are resent after the reconnect; off, they fail at once — what the in-flight output measures.</param>
    public RecoveryMetric(bool idempotent = true)
    {
        _idempotent = idempotent;
        var suffix = idempotent ? string.Empty : "_idempotent_writes_off";
        Outputs =
        [
            new("recovery_first_set_after_server_back_ms" + suffix, false),
            new("recovery_64_of_64_writers_after_server_back_ms" + suffix, false),
            new("recovery_inflight_failure_after_kill_max_ms" + suffix, false),
            new("recovery_acknowledged_sets_lost" + suffix, false),
        ];
    }

    public string Name => _idempotent ? "recovery" : "recovery_plain";

    public IReadOnlyList<MetricOutput> Outputs { get; }

    public IReadOnlyList<Side> Peers { get; } = [Side.Other];

    public string PeerLabel(Side peer) => " (peer: RedisCache)";

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        // Its own servers: this metric kills them.
        _nats = await NatsServer.StartAsync().ConfigureAwait(false);
        _connection = new NatsConnection(new NatsConnectionOptions { Url = _nats.Url, Name = "bench-recovery" }.ApplyTo(NatsOpts.Default));
        _ours = new NatsDistributedCache(_connection, new NatsDistributedCacheOptions { Bucket = "bench_recovery", IdempotentWrites = _idempotent });
        await _ours.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
        try
        {
            _redis = await RedisServer.StartAsync(output: null, durable: true).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            _peer = new RedisCache(new RedisCacheOptions { Configuration = _redis.Configuration, InstanceName = "recovery:" });
            await _peer.GetAsync("warmup", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _redisError = ex;
        }
    }

    public async Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken)
    {
        if (side != Side.Ours && _redisError is not null)
        {
            throw new InvalidOperationException("redis-server did not start: " + _redisError.Message, _redisError);
        }

        IDistributedCache cache = side == Side.Ours ? _ours! : _peer!;
        Func<Task> kill = side == Side.Ours ? _nats!.KillAsync : _redis!.KillAsync;
        Func<Task> start = side == Side.Ours ? _nats!.StartAgainAsync : _redis!.StartAgainAsync;
        var run = Interlocked.Increment(ref _run);
        var options = new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(10) };
        var clock = Stopwatch.StartNew();
        long killedAt = long.MaxValue, backAt = long.MaxValue;
        var firstAfterBack = new long[Writers];
        var inflightFailureMax = 0L;
        var failures = 0;

        // Per key: the last acknowledged value, and every value tried after it (a failed Set may still have landed).
        var acked = new ConcurrentDictionary<string, (int Acked, List<int> Tried)>();
        using var stop = new CancellationTokenSource();

        async Task Writer(int w)
        {
            for (var n = 1; !stop.IsCancellationRequested; n++)
            {
                var key = $"r{run}.w{w}.{n % KeysPerWriter}";
                var value = (byte[])_value.Clone();
                BitConverter.TryWriteBytes(value, n);
                acked.AddOrUpdate(key, _ => (0, [n]), (_, e) => { e.Tried.Add(n); return e; });
                var began = clock.ElapsedTicks;
                try
                {
                    await cache.SetAsync(key, value, options, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception)
                {
                    var ended = clock.ElapsedTicks;
                    var killed = Interlocked.Read(ref killedAt);
                    if (began < killed && ended > killed)
                    {
                        InterlockedMax(ref inflightFailureMax, ended - killed);
                    }

                    Interlocked.Increment(ref failures);
                    await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
                    continue;
                }

                var done = clock.ElapsedTicks;
                acked.AddOrUpdate(key, _ => (n, []), (_, _) => (n, []));
                if (done > Interlocked.Read(ref backAt) && firstAfterBack[w] == 0)
                {
                    firstAfterBack[w] = done;
                }
            }
        }

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => Writer(w), CancellationToken.None)).ToArray();
        await Task.Delay(warmup ? 300 : 1000, cancellationToken).ConfigureAwait(false);
        Interlocked.Exchange(ref killedAt, clock.ElapsedTicks);
        await kill().ConfigureAwait(false);
        await Task.Delay(Down, cancellationToken).ConfigureAwait(false);
        await start().ConfigureAwait(false);
        Interlocked.Exchange(ref backAt, clock.ElapsedTicks);
        var deadline = clock.Elapsed + MaxRecovery;
        while (Array.Exists(firstAfterBack, t => Volatile.Read(ref t) == 0) && clock.Elapsed < deadline)
        {
            await Task.Delay(20, cancellationToken).ConfigureAwait(false);
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);

        var lost = 0;
        foreach (var (key, (ackedValue, tried)) in acked)
        {
            if (ackedValue == 0)
            {
                continue;
            }

            var stored = await cache.GetAsync(key, cancellationToken).ConfigureAwait(false);
            var n = stored is { Length: >= 4 } ? BitConverter.ToInt32(stored) : -1;
            if (n != ackedValue && !tried.Contains(n))
            {
                lost++;
            }
        }

        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        var recovered = firstAfterBack.Where(t => t != 0).ToArray();
        var first = recovered.Length == 0 ? double.NaN : Ms(recovered.Min() - backAt);
        var all = recovered.Length < Writers ? double.PositiveInfinity : Ms(recovered.Max() - backAt);
        Console.Error.WriteLine($"[recovery] {(side == Side.Ours ? "ours" : "RedisCache")}: down {Ms(backAt - killedAt):F0} ms, {failures} failed Sets, {recovered.Length}/{Writers} writers back");
        return [first, all, Ms(Interlocked.Read(ref inflightFailureMax)), lost];
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_ours is not null)
        {
            await _ours.DisposeAsync().ConfigureAwait(false);
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync().ConfigureAwait(false);
        }

        _peer?.Dispose();
        if (_redis is not null)
        {
            await _redis.DisposeAsync().ConfigureAwait(false);
        }

        if (_nats is not null)
        {
            await _nats.DisposeAsync().ConfigureAwait(false);
        }
    }
}

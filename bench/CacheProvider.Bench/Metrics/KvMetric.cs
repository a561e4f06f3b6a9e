using System.Diagnostics;
using CacheProvider.Bench.Harness;
using CacheProvider.KeyValue;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.KeyValueStore;

namespace CacheProvider.Bench.Metrics;

/// <summary>
/// KV metrics of one mode and value size: ours (<see cref="KvBucket"/>) vs NATS.Net's own <see cref="NatsKVStore"/>
/// (same language, same NATS.Net connection type) and vs the JS client's <c>js/bench/kv.mjs serve</c>. Each side has
/// its own connection and its own bucket configured alike (history 1, 2 s limit markers so per-message TTL is on,
/// file storage) on the same server, and does exactly what kv.mjs does for that mode (see the header of kv.mjs).
/// watch-expiry has only the JS peer (NatsKVStore's watcher does not report why a marker was written).
/// </summary>
internal sealed class KvMetric : IMetric
{
    /// <summary>
    /// Creates per second in the watch-expiry run, on both sides: below either client's top speed, so both hand the
    /// server the same expiry load and the lag compares delivery, not how densely each client packed its keys.
    /// </summary>
    private const int ExpiryCreateRate = 4000;

    private const int InFlight = 64;
    private const int Keys = 1000;
    private static int _run;
    private readonly string _mode;
    private readonly int _size;
    private readonly int _count;
    private readonly byte[] _payload;
    private NatsConnection? _ours;
    private NatsConnection? _natsKvConnection;
    private KvBucket _bucket = null!;
    private INatsKVStore? _store;
    private Exception? _storeError;
    private NodeScript? _peer;
    private Exception? _peerError;

    public KvMetric(string mode, int size, int count)
    {
        _mode = mode;
        _size = size;
        _count = count;
        _payload = new byte[size];
        for (var i = 0; i < size; i++)
        {
            _payload[i] = (byte)('a' + (i % 26));
        }

        var s = size == 1024 ? "1KiB" : $"{size}B";
        Outputs = mode switch
        {
            "get" or "put" => [new($"kv_{mode}_{s}_latency_p50_us", false), new($"kv_{mode}_{s}_latency_p99_us", false)],
            "get-inflight" => [new($"kv_get_{s}_64_inflight_ops_per_s", true)],
            "put-inflight" => [new($"kv_put_{s}_64_inflight_ops_per_s", true)],
            "create-ttl" => [new($"kv_create_ttl_{s}_64_inflight_ops_per_s", true)],
            "watch-expiry" => [new("kv_watch_mass_expiry_markers_per_s", true), new("kv_watch_expiry_lag_p50_ms", false), new("kv_watch_expiry_lag_p99_ms", false)],
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown KV mode"),
        };
    }

    public string Name => $"kv_{_mode}_{_size}";

    public IReadOnlyList<Side> Peers => _mode == "watch-expiry" ? [Side.Js] : [Side.NatsKv, Side.Js];

    public IReadOnlyList<MetricOutput> Outputs { get; }

    private static TimeSpan PeerTimeout => TimeSpan.FromSeconds(90);

    public async Task SetupAsync(BenchContext context, CancellationToken cancellationToken)
    {
        var name = $"bench_{_mode.Replace('-', '_')}_{_size}";
        _ours = new NatsConnection(NatsOpts.Default with { Url = context.ServerUrl, Name = "bench-ours" });
        var kv = new KvContext(_ours);
        await kv.ConnectAsync(cancellationToken).ConfigureAwait(false);
        _bucket = await kv.CreateBucketAsync(
            new KvBucketConfig { Bucket = name + "_ours", History = 1, LimitMarkerTtl = TimeSpan.FromSeconds(2) }, cancellationToken).ConfigureAwait(false);
        if (Peers.Contains(Side.NatsKv))
        {
            try
            {
                _natsKvConnection = new NatsConnection(NatsOpts.Default with { Url = context.ServerUrl, Name = "bench-natskv" });
                await _natsKvConnection.ConnectAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
                _store = await new NatsKVContext(new NatsJSContext(_natsKvConnection)).CreateStoreAsync(
                    new NatsKVConfig(name + "_natskv") { History = 1, LimitMarkerTTL = TimeSpan.FromSeconds(2), Storage = NatsKVStorageType.File }, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                _storeError = ex;
            }
        }

        try
        {
            _peer = await NodeScript.StartAsync(context, "kv.mjs", ["serve", "--url", context.ServerUrl, "--bucket", name + "_peer"], cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _peerError = ex;
        }
    }

    public Task<double[]> MeasureAsync(Side side, bool warmup, CancellationToken cancellationToken) => side switch
    {
        Side.Ours => MeasureOursAsync(warmup, cancellationToken),
        Side.NatsKv => MeasureNatsKvAsync(warmup, cancellationToken),
        _ => MeasurePeerAsync(warmup, cancellationToken),
    };

    private int Count(bool warmup) => warmup ? Math.Max(500, _count / 5) : _count;

    private async Task<double[]> MeasurePeerAsync(bool warmup, CancellationToken cancellationToken)
    {
        if (_peerError is not null)
        {
            throw new InvalidOperationException("the JS peer did not start: " + _peerError.Message, _peerError);
        }

        var r = await _peer!.SendAsync(new { op = _mode, size = _size, count = Count(warmup), keys = Keys, inflight = InFlight, ttl = _mode == "watch-expiry" ? "2s" : "60s", rate = _mode == "watch-expiry" ? ExpiryCreateRate : 0 }, PeerTimeout, cancellationToken).ConfigureAwait(false);
        return _mode switch
        {
            "get" or "put" => [r.GetProperty("p50_us").GetDouble(), r.GetProperty("p99_us").GetDouble()],
            "watch-expiry" => [r.GetProperty("markers_per_s").GetDouble(), r.GetProperty("lag_p50_ms").GetDouble(), r.GetProperty("lag_p99_ms").GetDouble()],
            _ => [r.GetProperty("ops_per_s").GetDouble()],
        };
    }

    /// <summary>NATS.Net's KV store doing what <see cref="MeasureOursAsync"/> does, call for call.</summary>
    private async Task<double[]> MeasureNatsKvAsync(bool warmup, CancellationToken cancellationToken)
    {
        if (_storeError is not null)
        {
            throw new InvalidOperationException("NatsKVStore setup failed: " + _storeError.Message, _storeError);
        }

        var store = _store!;
        var count = Count(warmup);
        var prefix = $"n{Environment.ProcessId}x{Interlocked.Increment(ref _run)}";
        switch (_mode)
        {
            case "get":
            case "put":
                {
                    var keys = await PopulateNatsKvAsync(prefix, cancellationToken).ConfigureAwait(false);
                    var samples = new long[count];
                    for (var i = 0; i < count; i++)
                    {
                        var start = Stopwatch.GetTimestamp();
                        if (_mode == "get")
                        {
                            var e = await store.GetEntryAsync<byte[]>(keys[i % keys.Length], cancellationToken: cancellationToken).ConfigureAwait(false);
                            _ = e.Value ?? throw new InvalidOperationException("missing key");
                        }
                        else
                        {
                            await store.PutAsync(keys[i % keys.Length], _payload, cancellationToken: cancellationToken).ConfigureAwait(false);
                        }

                        samples[i] = Stopwatch.GetTimestamp() - start;
                    }

                    Array.Sort(samples);
                    return [Latency.PercentileMicros(samples, 50), Latency.PercentileMicros(samples, 99)];
                }

            case "get-inflight":
            case "put-inflight":
                {
                    var keys = await PopulateNatsKvAsync(prefix, cancellationToken).ConfigureAwait(false);
                    var isGet = _mode == "get-inflight";
                    var seconds = await RunInflightAsync(count, async i =>
                    {
                        if (isGet)
                        {
                            var e = await store.GetEntryAsync<byte[]>(keys[i % keys.Length], cancellationToken: cancellationToken).ConfigureAwait(false);
                            _ = e.Value ?? throw new InvalidOperationException("missing key");
                        }
                        else
                        {
                            await store.PutAsync(keys[i % keys.Length], _payload, cancellationToken: cancellationToken).ConfigureAwait(false);
                        }
                    }).ConfigureAwait(false);
                    return [count / seconds];
                }

            case "create-ttl":
                {
                    var ttl = TimeSpan.FromSeconds(60);
                    var seconds = await RunInflightAsync(count, async i =>
                        await store.CreateAsync($"{prefix}.c{i}", _payload, ttl, cancellationToken: cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                    return [count / seconds];
                }

            default:
                throw new NotSupportedException($"{_mode} has no NatsKVStore side");
        }
    }

    private async Task<string[]> PopulateNatsKvAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = new string[Keys];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = $"{prefix}.k{i}";
        }

        await RunInflightAsync(keys.Length, async i => await _store!.PutAsync(keys[i], _payload, cancellationToken: cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return keys;
    }

    private async Task<double[]> MeasureOursAsync(bool warmup, CancellationToken cancellationToken)
    {
        var count = Count(warmup);
        var prefix = $"r{Environment.ProcessId}x{Interlocked.Increment(ref _run)}";
        switch (_mode)
        {
            case "get":
            case "put":
                {
                    var keys = await PopulateAsync(prefix, cancellationToken).ConfigureAwait(false);
                    var samples = new long[count];
                    for (var i = 0; i < count; i++)
                    {
                        var start = Stopwatch.GetTimestamp();
                        if (_mode == "get")
                        {
                            _ = await _bucket.GetAsync(keys[i % keys.Length], cancellationToken: cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("missing key");
                        }
                        else
                        {
                            await _bucket.PutAsync(keys[i % keys.Length], _payload, cancellationToken: cancellationToken).ConfigureAwait(false);
                        }

                        samples[i] = Stopwatch.GetTimestamp() - start;
                    }

                    Array.Sort(samples);
                    return [Latency.PercentileMicros(samples, 50), Latency.PercentileMicros(samples, 99)];
                }

            case "get-inflight":
            case "put-inflight":
                {
                    var keys = await PopulateAsync(prefix, cancellationToken).ConfigureAwait(false);
                    var isGet = _mode == "get-inflight";
                    var seconds = await RunInflightAsync(count, async i =>
                    {
                        if (isGet)
                        {
                            _ = await _bucket.GetAsync(keys[i % keys.Length], cancellationToken: cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException("missing key");
                        }
                        else
                        {
                            await _bucket.PutAsync(keys[i % keys.Length], _payload, cancellationToken: cancellationToken).ConfigureAwait(false);
                        }
                    }).ConfigureAwait(false);
                    return [count / seconds];
                }

            case "create-ttl":
                {
                    var ttl = TimeSpan.FromSeconds(60);
                    var seconds = await RunInflightAsync(count, async i =>
                        await _bucket.CreateAsync($"{prefix}.c{i}", _payload, ttl, cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
                    return [count / seconds];
                }

            default:
                return await WatchExpiryAsync(prefix, count, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Creates <c>count</c> keys with a 2 s TTL while a watcher waits for one expiry marker per key.</summary>
    private async Task<double[]> WatchExpiryAsync(string prefix, int count, CancellationToken cancellationToken)
    {
        var ttl = TimeSpan.FromSeconds(2);
        var created = new System.Collections.Concurrent.ConcurrentDictionary<string, long>();
        var lags = new List<double>(count);
        long first = 0, last = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var watcher = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in _bucket.WatchAsync($"{prefix}.>", new KvWatchOptions { UpdatesOnly = true, HeadersOnly = true }, stop.Token).ConfigureAwait(false))
                {
                    if (e.MarkerReason != KvMarkerReason.Expired)
                    {
                        continue;
                    }

                    var t = Stopwatch.GetTimestamp();
                    if (created.TryGetValue(e.Key, out var at))
                    {
                        lags.Add(Stopwatch.GetElapsedTime(at, t).TotalMilliseconds - ttl.TotalMilliseconds);
                    }

                    if (first == 0)
                    {
                        first = t;
                    }

                    last = t;
                    if (lags.Count >= count)
                    {
                        return;
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
        await Task.Delay(200, cancellationToken).ConfigureAwait(false); // the watcher's consumer must exist before the first create
        var start = Stopwatch.GetTimestamp();
        await RunInflightAsync(count, async i =>
        {
            // Paced like the JS side (ExpiryCreateRate): the server's expiry work per second follows the create rate.
            var wait = TimeSpan.FromSeconds((double)i / ExpiryCreateRate) - Stopwatch.GetElapsedTime(start);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }

            var key = $"{prefix}.w{i}";
            await _bucket.CreateAsync(key, _payload, ttl, cancellationToken).ConfigureAwait(false);
            created[key] = Stopwatch.GetTimestamp();
        }).ConfigureAwait(false);
        stop.CancelAfter(ttl + TimeSpan.FromSeconds(30));
        await watcher.ConfigureAwait(false);
        if (lags.Count == 0)
        {
            throw new InvalidOperationException($"the watch delivered no expiry marker for {count} keys created with a {ttl.TotalSeconds:F0} s TTL");
        }

        lags.Sort();
        var seconds = last > first ? Stopwatch.GetElapsedTime(first, last).TotalSeconds : 0;
        return [seconds > 0 ? lags.Count / seconds : 0, Percentile(lags, 50), Percentile(lags, 99)];
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

    private async Task<string[]> PopulateAsync(string prefix, CancellationToken cancellationToken)
    {
        var keys = new string[Keys];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = $"{prefix}.k{i}";
        }

        await RunInflightAsync(keys.Length, async i => await _bucket.PutAsync(keys[i], _payload, cancellationToken: cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return keys;
    }

    private static Task<double> RunInflightAsync(int count, Func<int, Task> op) => Inflight.RunAsync(count, InFlight, op);

    public async ValueTask DisposeAsync()
    {
        if (_peer is not null)
        {
            await _peer.DisposeAsync().ConfigureAwait(false);
        }

        if (_ours is not null)
        {
            await _ours.DisposeAsync().ConfigureAwait(false);
        }

        if (_natsKvConnection is not null)
        {
            await _natsKvConnection.DisposeAsync().ConfigureAwait(false);
        }
    }
}

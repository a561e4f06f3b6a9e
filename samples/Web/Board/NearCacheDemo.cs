using System.Diagnostics;
using CacheProvider.Caching;
using CacheProvider.Connection;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Samples.Web.Board;

/// <summary>
/// Two "nodes" in this process (each its own container and NATS connection, as two app instances would have), each
/// with <c>AddNatsDistributedCache</c> and its near cache on. Node B holds a copy of the key in memory; node A writes
/// a new value; B's bucket watch drops B's copy, and we measure how long after A's write began that happened.
/// Written every <see cref="Period"/> by itself so the board is never still, and on demand.
/// </summary>
internal sealed class NearCacheDemo(BoardFeed feed, WebDemoOptions options, ILogger<NearCacheDemo> logger) : BackgroundService, IBoardSource
{
    public const string Key = "price:espresso";
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan InvalidationLimit = TimeSpan.FromSeconds(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ServiceProvider _a = Node(options);
    private readonly ServiceProvider _b = Node(options);
    private object? _last;
    private int _writes;

    private NatsDistributedCache NodeA => _a.GetRequiredService<NatsDistributedCache>();

    private NatsDistributedCache NodeB => _b.GetRequiredService<NatsDistributedCache>();

    /// <inheritdoc />
    public IReadOnlyList<object> Snapshot() => Volatile.Read(ref _last) is { } last ? [last] : [];

    /// <summary>
    /// Node B reads the key (so its near cache holds it), node A writes <paramref name="value"/>, and B's copy is
    /// watched until it goes; returns (and publishes) what happened, with the measured delay.
    /// </summary>
    public async Task<object> WriteOnAAsync(string? value, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var a = NodeA;
            var b = NodeB;
            // B's first read starts its near-cache watch; once that is live, a read keeps a copy in B's memory.
            _ = await b.GetStringAsync(Key, cancellationToken).ConfigureAwait(false);
            await WaitUntilAsync(() => b.NearCacheActive, TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
            var before = await b.GetStringAsync(Key, cancellationToken).ConfigureAwait(false);
            var heldBefore = b.NearCacheCount > 0;
            value ??= $"{2.5 + (Interlocked.Increment(ref _writes) % 10) / 10.0:0.00} EUR";

            var clock = Stopwatch.StartNew();
            await a.SetStringAsync(Key, value, cancellationToken).ConfigureAwait(false);
            var acked = clock.Elapsed;
            // B's copy goes when B's watch sees A's revision: poll its count (B holds only this key) without sleeping,
            // so the measurement is not rounded up to a timer tick.
            var spin = new SpinWait();
            while (b.NearCacheCount > 0 && clock.Elapsed < InvalidationLimit)
            {
                spin.SpinOnce(sleep1Threshold: -1);
            }

            var invalidated = b.NearCacheCount == 0 ? clock.Elapsed : (TimeSpan?)null;
            var after = await b.GetStringAsync(Key, cancellationToken).ConfigureAwait(false);
            var result = new
            {
                type = "near",
                value,
                bBefore = before,
                bHeldCopy = heldBefore,
                ackMs = Math.Round(acked.TotalMilliseconds, 2),
                invalidatedMs = invalidated is { } i ? Math.Round(i.TotalMilliseconds, 2) : (double?)null,
                bAfter = after,
                atMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
            };
            Volatile.Write(ref _last, result);
            feed.Publish(result);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        feed.AddSource(this); // synchronously, while the host starts: before any page connects
        try
        {
            // A first value, so that B holds a copy from the first round on.
            await NodeA.SetStringAsync(Key, "2.40 EUR", stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Near-cache demo could not write its first value");
        }

        using var timer = new PeriodicTimer(Period);
        do
        {
            try
            {
                await WriteOnAAsync(null, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Near-cache round failed");
            }
        }
        while (await WaitTickAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await _a.DisposeAsync().ConfigureAwait(false);
        await _b.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<bool> WaitTickAsync(PeriodicTimer timer, CancellationToken token)
    {
        try
        {
            return await timer.WaitForNextTickAsync(token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan limit, CancellationToken token)
    {
        var clock = Stopwatch.StartNew();
        while (!condition() && clock.Elapsed < limit)
        {
            await Task.Delay(20, token).ConfigureAwait(false);
        }
    }

    private static ServiceProvider Node(WebDemoOptions options)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddNatsConnection(o => o.Url = options.NatsUrl);
        services.AddNatsDistributedCache(o =>
        {
            o.Bucket = "web-near" + options.BucketSuffix;
            o.NearCacheEnabled = true;
        });
        return services.BuildServiceProvider();
    }
}

using CacheProvider.Caching;
using CacheProvider.Shared;
using CacheProvider.Hybrid.Internal;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CacheProvider.Hybrid;

/// <summary>
/// Keeps this node's <see cref="HybridCache"/> L1 in step with the other nodes: when any other node sets or removes a
/// key, or a key expires, the key's L1 entry is dropped (the next read goes to L2, which has the fresh value). This
/// node's own writes are recognised by their KV revision and leave its fresh L1 alone. Another node's
/// <c>RemoveByTagAsync</c> (which HybridCache records as an L2 entry) is replayed locally, without writing L2 again.
/// L2 is never deleted from and hits are not re-read from L2.
/// </summary>
/// <remarks>
/// <para>
/// Guarantee: once this invalidator has applied another node's change of a key at KV revision R (<see cref="Applied"/>
/// counts it), a read of that key through this HybridCache that starts afterwards returns the value at R or a newer
/// one — with one exception: it may join a fetch of the key that had already received its value from L2 before R was
/// applied and was handing it out (HybridCache gives one fetch's result to every caller of the key that arrives
/// meanwhile). Such a value is never kept in L1. The race this closes: an L2 read in flight when the change arrives
/// would otherwise put the older value into L1 just after the eviction. HybridCache is created with views of its L1
/// and L2 that track each L2 read and refuse an L1 insertion from a read that started before a change of its key was
/// applied (and read again when the change came during the read).
/// </para>
/// <para>
/// HybridCache 11's L1 is the app's <see cref="IMemoryCache"/>, with entries under the HybridCache key itself; that is
/// what is evicted. Runs as a hosted service; while its watch is down (NATS unreachable), L1 may serve values older than
/// L2, and once it is back, every L1 entry this HybridCache made is dropped.
/// </para>
/// </remarks>
public sealed partial class NatsHybridCacheInvalidator : IHostedService, IAsyncDisposable
{
    /// <summary>The L2 key prefix HybridCache uses for tag invalidation timestamps.</summary>
    internal const string TagKeyPrefix = "__MSFT_HCT__";

    private readonly IServiceProvider _services;
    private readonly HybridCacheGuard _guard;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _active = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private NatsDistributedCache? _cache;
    private HybridCache? _hybrid;
    private long _applied;
    private long _tagInvalidations;
    private long _flushes;
    private long _waitedForHandouts;

    // The longest one change's application waits for fetches handing out an older value (they take microseconds; one
    // that never fills L1 is forgotten by the guard after 200 ms).
    private static readonly TimeSpan HandedOutWait = TimeSpan.FromMilliseconds(250);

    /// <summary>Created by <see cref="NatsHybridCacheInvalidationServiceCollectionExtensions.AddNatsHybridCacheInvalidation(IServiceCollection)"/>.</summary>
    internal NatsHybridCacheInvalidator(IServiceProvider services, HybridCacheGuard guard, ILogger<NatsHybridCacheInvalidator>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(guard);
        _services = services;
        _guard = guard;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The views' shared state (tests and measurements).</summary>
    internal HybridCacheGuard Guard => _guard;

    /// <summary>The service key of the HybridCache this invalidator serves (null: the default HybridCache).</summary>
    public object? ServiceKey => _guard.ServiceKey;

    /// <summary>Whether the watch is live now.</summary>
    public bool IsActive { get; private set; }

    /// <summary>Completes when the watch is live for the first time: changes made after it are applied.</summary>
    public Task WhenActive => _active.Task;

    /// <summary>Other nodes' changes (and expiries) applied: later reads of the key return that change or a newer one.</summary>
    public long Applied => Interlocked.Read(ref _applied);

    /// <summary>Other nodes' <c>RemoveByTagAsync</c> calls replayed here.</summary>
    public long TagInvalidations => Interlocked.Read(ref _tagInvalidations);

    /// <summary>Times every HybridCache L1 entry was dropped (watch restarted or resynced, or an unknown hashed key changed).</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>L1 insertions refused because their value was read from L2 before a change of the key was applied.</summary>
    public long RefusedStaleFills => _guard.RefusedFills;

    /// <summary>Changes whose application waited for a fetch of the key that was handing out an older value.</summary>
    public long WaitedForHandouts => Interlocked.Read(ref _waitedForHandouts);

    /// <summary>L2 reads made again because a change of their key was applied while they were in flight.</summary>
    public long Rereads => _guard.Rereads;

    /// <summary>Checks that HybridCache's L2 is a <see cref="NatsDistributedCache"/> and starts the watch (without waiting for NATS).</summary>
    /// <exception cref="InvalidOperationException">HybridCache's distributed cache is not the NATS cache.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Creating HybridCache hands it the guard's views, and the guard learns its L1 and L2.
        _hybrid = _guard.ServiceKey is { } key ? _services.GetRequiredKeyedService<HybridCache>(key) : _services.GetRequiredService<HybridCache>();
        _cache = _guard.Nats ?? throw new InvalidOperationException(
            $"AddNatsHybridCacheInvalidation needs HybridCache's distributed cache to be the NATS cache (AddNatsDistributedCache or AddKeyedNatsDistributedCache), but it is {_guard.OtherL2 ?? "unknown (HybridCache was not created through the registration AddNatsHybridCacheInvalidation wrapped)"}.");
        _stop = new CancellationTokenSource();
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    /// <summary>Stops the watch.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        IsActive = false;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stop?.Dispose();
    }

    private Task RunAsync(CancellationToken stopToken)
    {
        var cache = _cache!;
        var watchedBefore = false;
        return WatchRetryLoop.RunAsync(
            async (live, token) =>
            {
                await foreach (var change in cache.WatchChangesByOthersAsync(
                    onWatching: () =>
                    {
                        if (watchedBefore)
                        {
                            // Changes made while the watch was down were not seen.
                            FlushL1("watch restarted");
                        }

                        watchedBefore = true;
                        IsActive = true;
                        live();
                        _active.TrySetResult();
                    },
                    onResync: reason => FlushL1("watch resynced: " + reason),
                    cancellationToken: token).ConfigureAwait(false))
                {
                    await ApplyAsync(change).ConfigureAwait(false);
                }
            },
            static _ => true, // the loop must outlive any failure of the watch; it logs and retries
            (ex, delay) =>
            {
                IsActive = false;
                LogWatchFailed(ex, delay);
            },
            _time,
            stopToken);
    }

    private async ValueTask ApplyAsync(CacheKeyChange change)
    {
        if (change.Key is not { } key)
        {
            FlushL1("a hashed key changed whose original this watch never saw");
            return;
        }

        if (change.Kind == CacheKeyChangeKind.Written && key.StartsWith(TagKeyPrefix, StringComparison.Ordinal))
        {
            // Another node's RemoveByTagAsync: HybridCache only learns of it by reading the tag entry once per tag and
            // process, so replay it here. Its L2 write is suppressed: the tag entry is already there (and writing it
            // again would bounce between the nodes).
            var tag = key[TagKeyPrefix.Length..];
            ValueTask pending;
            using (_cache!.SuppressWriteOf(key))
            {
                pending = _hybrid!.RemoveByTagAsync(tag);
            }

            await pending.ConfigureAwait(false);
            Interlocked.Increment(ref _tagInvalidations);
            return;
        }

        if (_guard.Invalidate(key, change.Revision) is { } handedOut)
        {
            // Fetches of this key that already hold an older value from L2 and are handing it out: once they are done, no
            // read starting later can join them. Bounded: a fetch that never fills L1 is forgotten by the guard.
            try
            {
                await Task.WhenAll(handedOut).WaitAsync(HandedOutWait, _time).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }

            Interlocked.Increment(ref _waitedForHandouts);
        }

        Interlocked.Increment(ref _applied);
        AppliedChange?.Invoke(change);
    }

    /// <summary>For measurements and tests: raised once a change is applied (reads starting now see it or newer).</summary>
    internal event Action<CacheKeyChange>? AppliedChange;

    /// <summary>Drops every L1 entry this HybridCache made (and nothing else the app keeps in the same memory cache).</summary>
    private void FlushL1(string reason)
    {
        LogFlush(reason);
        _guard.Flush();
        Interlocked.Increment(ref _flushes);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "HybridCache invalidation watch failed; retrying in {Delay}")]
    private partial void LogWatchFailed(Exception ex, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Information, Message = "HybridCache L1 flushed: {Reason}")]
    private partial void LogFlush(string reason);
}

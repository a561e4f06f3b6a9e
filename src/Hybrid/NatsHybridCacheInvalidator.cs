using System.Collections.Concurrent;
using CacheProvider.Caching;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Hybrid;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace CacheProvider.Hybrid;

/// <summary>
/// Keeps this node's <see cref="HybridCache"/> L1 in step with the other nodes: when any other node sets or removes a
/// key, or a key expires, the key's L1 entry is dropped (the next read goes to L2, which has the fresh value). This
/// node's own writes are recognised by their KV revision and leave its fresh L1 alone. Another node's
/// <c>RemoveByTagAsync</c> (which HybridCache records as an L2 entry) is replayed locally, without writing L2 again.
/// L2 is never deleted from and hits are not re-read from L2.
/// </summary>
/// <remarks>
/// HybridCache 11's L1 is the app's <see cref="IMemoryCache"/> singleton, with entries under the HybridCache key
/// itself; that is what is evicted. Runs as a hosted service; while its watch is down (NATS unreachable), L1 may
/// serve values older than L2, and once it is back, every HybridCache L1 entry is dropped.
/// </remarks>
public sealed partial class NatsHybridCacheInvalidator : IHostedService, IAsyncDisposable
{
    /// <summary>The L2 key prefix HybridCache uses for tag invalidation timestamps.</summary>
    internal const string TagKeyPrefix = "__MSFT_HCT__";

    // A read of L2 that was in flight when another node's change arrived can put the old value into L1 just after the
    // eviction; a second eviction a moment later drops it.
    private static readonly TimeSpan SecondEvictionDelay = TimeSpan.FromMilliseconds(500);
    private readonly IServiceProvider _services;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _active = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<(string Key, long Due)> _secondEvictions = new();
    private CancellationTokenSource? _stop;
    private Task? _loop;
    private Task? _secondEvictionLoop;
    private NatsDistributedCache? _cache;
    private IMemoryCache? _l1;
    private HybridCache? _hybrid;
    private long _evictions;
    private long _tagInvalidations;
    private long _flushes;

    /// <summary>Created by <see cref="NatsHybridCacheInvalidationServiceCollectionExtensions.AddNatsHybridCacheInvalidation"/>.</summary>
    public NatsHybridCacheInvalidator(IServiceProvider services, ILogger<NatsHybridCacheInvalidator>? logger = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        _services = services;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Whether the watch is live now.</summary>
    public bool IsActive { get; private set; }

    /// <summary>Completes when the watch is live for the first time: changes made after it are applied.</summary>
    public Task WhenActive => _active.Task;

    /// <summary>L1 entries dropped because another node changed their key, or it expired.</summary>
    public long Evictions => Interlocked.Read(ref _evictions);

    /// <summary>Other nodes' <c>RemoveByTagAsync</c> calls replayed here.</summary>
    public long TagInvalidations => Interlocked.Read(ref _tagInvalidations);

    /// <summary>Times every HybridCache L1 entry was dropped (watch restarted or resynced, or an unknown hashed key changed).</summary>
    public long Flushes => Interlocked.Read(ref _flushes);

    /// <summary>Checks that HybridCache's L2 is a <see cref="NatsDistributedCache"/> and starts the watch (without waiting for NATS).</summary>
    /// <exception cref="InvalidOperationException">HybridCache's distributed cache is not the NATS cache.</exception>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var hybridOptions = _services.GetService<IOptions<HybridCacheOptions>>()?.Value;
        var l2 = hybridOptions?.DistributedCacheServiceKey is { } key ? _services.GetKeyedService<IDistributedCache>(key) : _services.GetService<IDistributedCache>();
        _cache = l2 as NatsDistributedCache ?? throw new InvalidOperationException(
            $"AddNatsHybridCacheInvalidation needs HybridCache's distributed cache to be the NATS cache (AddNatsDistributedCache), but it is {(l2 is null ? "not registered" : l2.GetType().FullName)}.");
        _l1 = _services.GetRequiredService<IMemoryCache>();
        _hybrid = _services.GetRequiredService<HybridCache>();
        _stop = new CancellationTokenSource();
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
        _secondEvictionLoop = Task.Run(() => SecondEvictionsAsync(_stop.Token), CancellationToken.None);
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
        foreach (var task in new[] { _loop, _secondEvictionLoop })
        {
            if (task is not null)
            {
                await task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        IsActive = false;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _stop?.Dispose();
    }

    private async Task RunAsync(CancellationToken token)
    {
        var cache = _cache!;
        var delay = TimeSpan.FromMilliseconds(100);
        var watchedBefore = false;
        while (!token.IsCancellationRequested)
        {
            try
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
                        delay = TimeSpan.FromMilliseconds(100);
                        _active.TrySetResult();
                    },
                    onResync: reason => FlushL1("watch resynced: " + reason),
                    cancellationToken: token).ConfigureAwait(false))
                {
                    await ApplyAsync(change).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // the loop must outlive any failure of the watch; it logs and retries
            catch (Exception ex)
#pragma warning restore CA1031
            {
                IsActive = false;
                LogWatchFailed(ex, delay);
                try
                {
                    await Task.Delay(delay, _time, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 5000));
            }
        }
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

        _l1!.Remove(key);
        Interlocked.Increment(ref _evictions);
        Evicted?.Invoke(key);
        _secondEvictions.Enqueue((key, _time.GetTimestamp() + (long)(SecondEvictionDelay.TotalSeconds * _time.TimestampFrequency)));
    }

    /// <summary>For measurements: raised after another node's change evicted <c>key</c> from L1.</summary>
    internal event Action<string>? Evicted;

    private async Task SecondEvictionsAsync(CancellationToken token)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100), _time);
        try
        {
            while (await timer.WaitForNextTickAsync(token).ConfigureAwait(false))
            {
                var now = _time.GetTimestamp();
                while (_secondEvictions.TryPeek(out var next) && next.Due <= now && _secondEvictions.TryDequeue(out next))
                {
                    _l1!.Remove(next.Key);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Drops every HybridCache entry from L1 (and nothing else the app keeps in the same memory cache).</summary>
    private void FlushL1(string reason)
    {
        LogFlush(reason);
        if (_l1 is MemoryCache memory)
        {
            foreach (var key in memory.Keys)
            {
                if (memory.TryGetValue(key, out var value) && IsHybridCacheItem(value))
                {
                    memory.Remove(key);
                }
            }
        }
        else
        {
            // Another IMemoryCache implementation: its entries cannot be listed; they age out with their L1 expiration.
            LogCannotFlush(_l1?.GetType().FullName);
        }

        Interlocked.Increment(ref _flushes);
    }

    // HybridCache's L1 values are DefaultHybridCache.CacheItem<T> (internal): recognised by their declaring type.
    private static bool IsHybridCacheItem(object? value) =>
        value?.GetType() is { } type && (type.DeclaringType ?? type).FullName == "Microsoft.Extensions.Caching.Hybrid.Internal.DefaultHybridCache";

    [LoggerMessage(Level = LogLevel.Warning, Message = "HybridCache invalidation watch failed; retrying in {Delay}")]
    private partial void LogWatchFailed(Exception ex, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "HybridCache L1 ({Type}) cannot be listed, so it was not flushed; its entries age out with their local expiration")]
    private partial void LogCannotFlush(string? type);

    [LoggerMessage(Level = LogLevel.Information, Message = "HybridCache L1 flushed: {Reason}")]
    private partial void LogFlush(string reason);
}

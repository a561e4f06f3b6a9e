using System.Text;
using System.Text.RegularExpressions;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;

namespace CacheProvider.Samples.Web.Board;

/// <summary>
/// The walkthrough of per-key TTL as a board: a KV bucket (history 1, limit markers on) where every key carries its
/// own TTL. A watch reports each write (its server time and deadline) and each marker the server writes when a key
/// expires, with the marker's reason and how late it came after the key's deadline (both on the server's clock).
/// </summary>
internal sealed partial class ExpiryBoard(INatsConnection connection, BoardFeed feed, WebDemoOptions options, ILogger<ExpiryBoard> logger)
    : BackgroundService, IBoardSource
{
    /// <summary>The seed: the keys and TTLs of the console walkthrough (samples/Expiry).</summary>
    public static readonly (string Key, int Seconds)[] Seed = [("session.temp", 5), ("cache.warm", 10), ("config.stable", 15)];

    private const int MaxEnded = 12;
    private readonly TaskCompletionSource<KvBucket> _bucket = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, object> _live = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (DateTimeOffset Created, DateTimeOffset? Due)> _writes = new(StringComparer.Ordinal);
    private readonly Queue<object> _ended = new();

    /// <summary>Longest TTL a page may ask for.</summary>
    public static readonly TimeSpan MaxTtl = TimeSpan.FromMinutes(10);

    /// <summary>Null when <paramref name="key"/> and <paramref name="seconds"/> are acceptable, else why not.</summary>
    public static string? Check(string? key, double seconds) =>
        key is null || !KeyPattern().IsMatch(key) ? "key: 1-40 characters of a-z, A-Z, 0-9, '.', '-', '_' (no leading or trailing '.')"
        : !(seconds >= 1 && seconds <= MaxTtl.TotalSeconds) ? $"ttl: 1 to {MaxTtl.TotalSeconds:0} seconds"
        : null;

    /// <summary>Writes <paramref name="key"/> with its own TTL; the page learns of it from the watch.</summary>
    public async Task<ulong> WriteAsync(string key, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var bucket = await _bucket.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        var value = Encoding.UTF8.GetBytes($"written at {DateTimeOffset.UtcNow:HH:mm:ss.fff} with a {ttl.TotalSeconds:0.#} s TTL");
        return await bucket.PutAsync(key, value, ttl, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Removes <paramref name="key"/> now (its marker says "removed").</summary>
    public async Task RemoveAsync(string key, CancellationToken cancellationToken)
    {
        var bucket = await _bucket.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await bucket.DeleteAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes the seed keys (5, 10 and 15 s) again.</summary>
    public async Task SeedAsync(CancellationToken cancellationToken)
    {
        foreach (var (key, seconds) in Seed)
        {
            await WriteAsync(key, TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public IReadOnlyList<object> Snapshot()
    {
        lock (_live)
        {
            return [.. _ended, .. _live.Values];
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        feed.AddSource(this); // synchronously, while the host starts: before any page connects
        var kv = new KvContext(connection);
        var seeded = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // History 1: with more, an expiring revision would uncover the previous one instead of leaving a marker.
                var bucket = await kv.CreateBucketAsync(new KvBucketConfig
                {
                    Bucket = "web-board" + options.BucketSuffix,
                    History = 1,
                    LimitMarkerTtl = TimeSpan.FromSeconds(5),
                }, stoppingToken).ConfigureAwait(false);
                var watcher = await bucket.StartWatchAsync([">"], new KvWatchOptions { UpdatesOnly = true }, stoppingToken).ConfigureAwait(false);
                await using var _ = watcher.ConfigureAwait(false);
                _bucket.TrySetResult(bucket);
                if (!seeded)
                {
                    seeded = true;
                    await SeedAsync(stoppingToken).ConfigureAwait(false);
                }

                await foreach (var entry in watcher.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                {
                    Apply(entry);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Board watch failed; retrying in 1 s");
                try
                {
                    await Task.Delay(1000, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Apply(KvEntry entry)
    {
        var arrived = DateTimeOffset.UtcNow;
        object e;
        if (entry.IsValue)
        {
            e = new
            {
                type = "key",
                key = entry.Key,
                revision = entry.Revision,
                ttlMs = (long?)entry.Ttl?.TotalMilliseconds,
                writtenMs = entry.Created.ToUnixTimeMilliseconds(),
                dueMs = entry.ExpiresAt?.ToUnixTimeMilliseconds(),
            };
            lock (_live)
            {
                _writes[entry.Key] = (entry.Created, entry.ExpiresAt);
                _live[entry.Key] = e;
            }
        }
        else
        {
            var reason = entry.MarkerReason switch
            {
                KvMarkerReason.Expired => "expired",
                KvMarkerReason.Purged => "purged",
                _ => "removed",
            };
            lock (_live)
            {
                _writes.Remove(entry.Key, out var write);
                var due = write.Due;
                e = new
                {
                    type = "key-ended",
                    key = entry.Key,
                    revision = entry.Revision,
                    reason,
                    markerMs = entry.Created.ToUnixTimeMilliseconds(),
                    writtenMs = write.Created == default ? (long?)null : write.Created.ToUnixTimeMilliseconds(),
                    dueMs = due?.ToUnixTimeMilliseconds(),
                    // How late the marker reached us after the key's deadline. The server stamps the marker with the
                    // deadline itself, so its own time says little; the arrival does (same clock: a loopback server).
                    markerLateMs = due is { } d && reason == "expired" ? (long?)(entry.Created - d).TotalMilliseconds : null,
                    lateMs = due is { } d2 && reason == "expired" ? (long?)(arrived - d2).TotalMilliseconds : null,
                };
                _live.Remove(entry.Key);
                _ended.Enqueue(e);
                if (_ended.Count > MaxEnded)
                {
                    _ended.Dequeue();
                }
            }
        }

        // Outside our lock: the feed takes its own lock and calls Snapshot under it.
        feed.Publish(e);
    }

    [GeneratedRegex(@"^[A-Za-z0-9_\-]([A-Za-z0-9_.\-]{0,38}[A-Za-z0-9_\-])?$")]
    private static partial Regex KeyPattern();
}

using System.Text;
using CacheProvider.KeyValue;

namespace CacheProvider.Samples.Expiry;

/// <summary>
/// Part 2, the same idea one level up: a KV bucket with limit markers and three keys with their own TTLs.
/// A watcher reports each expiry as it happens; after each one the demo shows that reads agree: GetAsync
/// returns nothing and KeysAsync no longer lists the key.
/// </summary>
internal sealed class BucketWalkthrough(KvContext kv, Report report, DemoNames names)
{
    private static readonly TimeSpan MarkerTtl = TimeSpan.FromSeconds(2);

    private static readonly (string Key, TimeSpan Ttl, string Value)[] Keys =
    [
        ("session.temp", TimeSpan.FromSeconds(5), "user=42 cart=3"),
        ("cache.warm", TimeSpan.FromSeconds(10), "<rendered home page>"),
        ("config.stable", TimeSpan.FromSeconds(15), "feature-x=on"),
    ];

    public async Task<IReadOnlyList<ExpiryResult>> RunAsync(CancellationToken cancellationToken)
    {
        report.Heading("Part 2 - a KV bucket with per-key TTL: session.temp 5s, cache.warm 10s, config.stable 15s");

        // History 1: with more, an expiring revision would uncover the previous one instead of leaving a marker.
        var bucket = await kv.CreateBucketAsync(new KvBucketConfig
        {
            Bucket = names.Bucket,
            History = 1,
            LimitMarkerTtl = MarkerTtl,
        }, cancellationToken).ConfigureAwait(false);
        report.Note($"bucket {bucket.Bucket} (stream {bucket.StreamName}): history 1, limit markers kept {Report.Seconds(MarkerTtl)}");
        report.Note("due = entry Created + TTL (its ExpiresAt); late = marker Created - ExpiresAt");
        report.Plain("");

        try
        {
            // Only changes from now on. WatchAsync creates its server consumer lazily, on the pump's first read, so it
            // may miss our puts (skipped anyway); it is certainly listening long before the first marker, 5 s away.
            await using var pump = new EventPump<KvEntry>(
                bucket.WatchAsync(">", new KvWatchOptions { UpdatesOnly = true }, cancellationToken), cancellationToken);
            var tracker = new ExpiryTracker("bucket");

            foreach (var (key, ttl, value) in Keys)
            {
                var revision = await bucket.PutAsync(key, Encoding.UTF8.GetBytes(value), ttl, cancellationToken).ConfigureAwait(false);
                var entry = await bucket.GetAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false)
                    ?? throw new DemoFailedException($"bucket: '{key}' was just written (revision {revision}) but GetAsync returned nothing");
                var due = entry.ExpiresAt
                    ?? throw new DemoFailedException($"bucket: '{key}' was written with TTL {Report.Seconds(ttl)} but the stored entry has no TTL");
                tracker.Expect(key, ttl, "Nats-TTL", due);
                report.Event($"put      rev {revision,-3} {key,-16} TTL {Report.Seconds(ttl),-4} {'"' + value + '"',-24} due {report.Rel(due)}");
            }

            report.Event($"KeysAsync -> {Format(await ListKeysAsync(bucket, cancellationToken).ConfigureAwait(false))}");
            report.Plain("");
            await FollowAsync(bucket, pump, tracker, cancellationToken).ConfigureAwait(false);
            return tracker.Results;
        }
        finally
        {
            await names.CleanupAsync(() => kv.DeleteBucketAsync(names.Bucket, CancellationToken.None).AsTask()).ConfigureAwait(false);
        }
    }

    private async Task FollowAsync(KvBucket bucket, EventPump<KvEntry> pump, ExpiryTracker tracker, CancellationToken cancellationToken)
    {
        while (!tracker.AllArrived)
        {
            var entry = await pump.ReadAsync(tracker.WaitBudget(DateTimeOffset.UtcNow), cancellationToken).ConfigureAwait(false)
                ?? throw tracker.Overdue(DateTimeOffset.UtcNow, report);
            if (entry.IsValue)
            {
                continue; // our own puts, if the watch was already listening when they were written
            }

            if (entry.MarkerReason == KvMarkerReason.None)
            {
                throw new DemoFailedException($"bucket: unexpected {entry.Operation} of '{entry.Key}' (revision {entry.Revision}) written by a client");
            }

            var raw = entry.Headers is { } h && h.TryGetValue("Nats-Marker-Reason", out var r) ? r.ToString() : "?";
            var result = tracker.Arrived(entry.Key, entry.MarkerReason.ToString(), entry.Created);
            report.Event($"EXPIRED  rev {entry.Revision,-3} {entry.Key,-16} {$"marker: {entry.MarkerReason} ({raw})",-33} due {report.Rel(result.Deadline)}  late {Report.Ms(result.Lateness)}");
            if (entry.MarkerReason != KvMarkerReason.Expired)
            {
                throw new DemoFailedException($"bucket: marker for '{entry.Key}' has reason {entry.MarkerReason} ({raw}), expected Expired (MaxAge)");
            }

            await ShowReadsAfterExpiryAsync(bucket, entry.Key, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>After the marker, every read path must agree that the key is gone.</summary>
    private async Task ShowReadsAfterExpiryAsync(KvBucket bucket, string key, CancellationToken cancellationToken)
    {
        var current = await bucket.GetAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (current is not null)
        {
            throw new DemoFailedException($"bucket: '{key}' expired, but GetAsync still returns revision {current.Revision}");
        }

        var last = await bucket.GetLastAsync(key, cancellationToken: cancellationToken).ConfigureAwait(false);
        var keys = await ListKeysAsync(bucket, cancellationToken).ConfigureAwait(false);
        if (keys.Contains(key))
        {
            throw new DemoFailedException($"bucket: '{key}' expired, but KeysAsync still lists it");
        }

        var lastText = last is null ? "nothing" : $"rev {last.Revision}, {last.Operation} marker";
        report.Detail($"GetAsync -> null   GetLastAsync -> {lastText}   KeysAsync -> {Format(keys)}");
    }

    private static async Task<List<string>> ListKeysAsync(KvBucket bucket, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        await foreach (var k in bucket.KeysAsync(cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            keys.Add(k);
        }

        return keys;
    }

    private static string Format(List<string> keys) => keys.Count == 0 ? "[] (empty)" : "[" + string.Join(", ", keys.Order(StringComparer.Ordinal)) + "]";
}

using System.Globalization;
using NATS.Client.JetStream.Models;
using CacheProvider.KeyValue;

namespace CacheProvider.Operations;

/// <summary>
/// Pure KV hygiene rules: from a bucket's stream info (and optionally a key scan) and the server version to findings
/// with severity and exact fix. No I/O, so the CLI, the health check and tests share the same verdicts.
/// </summary>
public static class KvAudit
{
    /// <summary>Low estimate of delete-map memory per interior delete.</summary>
    public const int DeleteMapBytesPerEntryLow = 24;

    /// <summary>High estimate of delete-map memory per interior delete.</summary>
    public const int DeleteMapBytesPerEntryHigh = 48;

    /// <summary>The finding for a server older than <see cref="KvContext.MinimumServerVersion"/>, or <see langword="null"/>.</summary>
    public static KvFinding? CheckServer(Version serverVersion)
    {
        ArgumentNullException.ThrowIfNull(serverVersion);
        var min = KvContext.MinimumServerVersion;
        return serverVersion >= min ? null : new KvFinding(
            KvFindingCodes.ServerTooOld, KvFindingSeverity.Error, null,
            $"nats-server {serverVersion} is older than {min}: TTL expiry after a restart and markers are unreliable.",
            $"Upgrade every nats-server of the cluster to {min} or newer.");
    }

    /// <summary>Audits one bucket.</summary>
    /// <param name="info">Stream info of <c>KV_&lt;bucket&gt;</c>.</param>
    /// <param name="serverVersion">Version of the server (findings about it are reported by <see cref="CheckServer"/>).</param>
    /// <param name="now">Current time (for the pinned-first-sequence check).</param>
    /// <param name="keys">Last-revision-per-key counts, if scanned; without them tombstone and TTL findings use the config only.</param>
    /// <param name="thresholds">Limits; <see cref="KvAuditThresholds.Default"/> when null.</param>
    public static KvBucketReport Evaluate(StreamInfo info, Version serverVersion, DateTimeOffset now, KvKeySnapshot? keys = null, KvAuditThresholds? thresholds = null)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(serverVersion);
        thresholds ??= KvAuditThresholds.Default;
        var c = info.Config;
        var s = info.State;
        var bucket = BucketName(c.Name ?? string.Empty);
        var total = (double)s.NumDeleted + s.Messages;
        var isMirror = c.Mirror is not null;
        var pinnedAge = c.MaxAge > TimeSpan.Zero ? c.MaxAge * 2 : thresholds.PinnedAge;
        var firstTime = DateTimeOffset.TryParse(s.FirstTs, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var ft) ? ft : default;
        var pinned = s.NumDeleted > 0 && s.Messages > 0 && firstTime != default && now - firstTime > pinnedAge;
        var findings = new List<KvFinding>();

        var markersOff = !isMirror && c.SubjectDeleteMarkerTTL == TimeSpan.Zero;
        var unboundedDeleteMap = markersOff && c.MaxAge == TimeSpan.Zero && s.NumDeleted >= thresholds.ManyDeletes;
        if (unboundedDeleteMap)
        {
            findings.Add(new KvFinding(
                KvFindingCodes.UnboundedDeleteMap,
                s.NumDeleted >= thresholds.DeletesError ? KvFindingSeverity.Error : KvFindingSeverity.Warning,
                bucket,
                $"No max_age and limit markers off with {s.NumDeleted:N0} interior deletes ({Mb(s.NumDeleted)} of delete map, replayed on every restart); nothing ever bounds it.",
                $"kv-doctor fix {bucket} --marker-ttl 2s [--max-age <longest value lifetime>] --yes (then write removals as purge-with-TTL, as NatsDistributedCache does)."));
        }

        if (markersOff && !unboundedDeleteMap)
        {
            findings.Add(MarkersOff(bucket, c, keys));
        }

        if (pinned && s.NumDeleted >= thresholds.ManyDeletes)
        {
            findings.Add(new KvFinding(
                KvFindingCodes.FirstSeqPinned, KvFindingSeverity.Warning, bucket,
                string.Create(CultureInfo.InvariantCulture, $"first_seq {s.FirstSeq} is from {firstTime:u} ({(now - firstTime).TotalHours:F0} h old) and holds {s.NumDeleted:N0} interior deletes in the delete map."),
                $"Re-write or delete the key stored at sequence {s.FirstSeq} (nats stream get KV_{bucket} {s.FirstSeq}), or give long-lived keys a TTL, so first_seq can advance."));
        }

        if (keys is { } k && k.PermanentTombstones > 0 && k.PermanentTombstones >= thresholds.PermanentTombstones)
        {
            findings.Add(new KvFinding(
                KvFindingCodes.PermanentTombstones, KvFindingSeverity.Warning, bucket,
                $"{k.PermanentTombstones:N0} keys end in a DEL/PURGE tombstone without TTL (≈ {k.PermanentTombstones * 81 / 1024:N0} KiB); they are never removed.",
                $"kv-doctor fix {bucket} --older-than 30m --yes (purges tombstones, keeps live values); delete with purge-with-TTL from now on."));
        }

        if (isMirror && !c.AllowMsgTTL)
        {
            findings.Add(new KvFinding(
                KvFindingCodes.MirrorWithoutTtl, KvFindingSeverity.Error, bucket,
                $"Mirror of {BucketName(c.Mirror!.Name)} without allow_msg_ttl: expired values, markers and purge tombstones stay here forever and it diverges from its origin.",
                $"kv-doctor fix {bucket} --yes (sets allow_msg_ttl; the server then expires held messages on the origin's schedule)."));
        }

        var ttlWrites = keys is { } kk ? kk.TtlValues + kk.ExpiringTombstones > 0 : c.AllowMsgTTL;
        if (c.MaxMsgsPerSubject > 1 && ttlWrites)
        {
            findings.Add(new KvFinding(
                KvFindingCodes.HistoryWithTtl, KvFindingSeverity.Error, bucket,
                $"History {c.MaxMsgsPerSubject} with TTL'd writes: when a newest revision expires the older one comes back (and TTLs below the marker TTL are raised).",
                $"kv-doctor fix {bucket} --yes (sets history 1), or write with Nats-Rollup: sub."));
        }

        var origin = c.Mirror?.Name;
        return new KvBucketReport
        {
            Bucket = bucket,
            History = c.MaxMsgsPerSubject,
            MaxAge = c.MaxAge,
            MarkerTtl = c.SubjectDeleteMarkerTTL,
            AllowMsgTtl = c.AllowMsgTTL,
            Messages = (ulong)Math.Max(0, s.Messages),
            Bytes = (ulong)Math.Max(0, s.Bytes),
            NumDeleted = s.NumDeleted,
            DeletedRatio = total == 0 ? 0 : s.NumDeleted / total,
            FirstSeq = s.FirstSeq,
            FirstTime = firstTime,
            FirstSeqPinned = pinned,
            DeleteMapBytesLow = s.NumDeleted * DeleteMapBytesPerEntryLow,
            DeleteMapBytesHigh = s.NumDeleted * DeleteMapBytesPerEntryHigh,
            MirrorOrigin = origin is null ? null : BucketName(origin),
            MirrorLag = info.Mirror is { } mirror ? (ulong)Math.Max(0, mirror.Lag) : null,
            Sources = c.Sources?.Select(x => BucketName(x.Name)).ToList() ?? [],
            Keys = keys,
            Findings = findings.OrderByDescending(f => f.Severity).ToList(),
        };
    }

    /// <summary>
    /// Markers off, reported whatever the number of deletes (mirrors cannot have markers; a bucket with an unbounded
    /// delete map already has that finding, which says markers are off and has the same fix).
    /// </summary>
    private static KvFinding MarkersOff(string bucket, StreamConfig c, KvKeySnapshot? keys)
    {
        // Do keys expire here? A max age expires everything; with a key scan, values written with a TTL; without one,
        // a bucket that allows per-key TTLs is taken to use them.
        var ttlValues = keys?.TtlValues;
        var expiring = c.MaxAge > TimeSpan.Zero || (ttlValues is { } n ? n > 0 : c.AllowMsgTTL);
        var what = c.MaxAge > TimeSpan.Zero && ttlValues is > 0 ? $"max_age {c.MaxAge} and {ttlValues:N0} value(s) with a TTL"
            : c.MaxAge > TimeSpan.Zero ? $"max_age {c.MaxAge}"
            : ttlValues is > 0 ? $"{ttlValues:N0} value(s) with a TTL"
            : "per-key TTLs allowed";
        var cost = "keys that expire vanish without a marker, so watchers never learn of it: no session-ended or presence-offline " +
                   "event, no grain deactivation, no near-cache or HybridCache/FusionCache invalidation, no wake-up for lease waiters.";
        return expiring
            ? new KvFinding(KvFindingCodes.MarkersOff, KvFindingSeverity.Warning, bucket,
                $"Limit markers off while keys expire here ({what}): " + cost,
                $"kv-doctor fix {bucket} --marker-ttl 2s --yes (turns on limit markers and per-key TTL; existing values keep their TTLs).")
            : new KvFinding(KvFindingCodes.MarkersOff, KvFindingSeverity.Info, bucket,
                "Limit markers off. Nothing here expires today (no max_age, no values with a TTL), so no expiry goes unseen yet; once keys get a TTL or the bucket a max_age, " + cost,
                $"kv-doctor fix {bucket} --marker-ttl 2s --yes before keys here get TTLs (CacheProvider's caches, sessions and patterns need markers).");
    }

    /// <summary>Bucket name of a <c>KV_&lt;bucket&gt;</c> stream (other names unchanged).</summary>
    public static string BucketName(string stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        return stream.StartsWith("KV_", StringComparison.Ordinal) ? stream[3..] : stream;
    }

    private static string Mb(long deletes) =>
        string.Create(CultureInfo.InvariantCulture, $"≈ {deletes * DeleteMapBytesPerEntryLow / 1048576.0:F1}–{deletes * DeleteMapBytesPerEntryHigh / 1048576.0:F1} MB");
}

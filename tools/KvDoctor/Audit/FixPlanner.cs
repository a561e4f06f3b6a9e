using System.Globalization;
using CacheProvider.KeyValue;
using NATS.Client.JetStream.Models;
using CacheProvider.Operations;

namespace CacheProvider.KvDoctor.Audit;

/// <summary>Turns audit findings into configuration changes and tombstone purges, and applies them.</summary>
internal static class FixPlanner
{
    /// <summary>Plans the fixes for one bucket report.</summary>
    /// <param name="report">The audit of the bucket.</param>
    /// <param name="current">Its stream configuration.</param>
    /// <param name="settings">What the user allowed.</param>
    /// <param name="named">True when the user named this bucket (then <c>--max-age</c> applies even without a finding).</param>
    public static FixPlan Plan(KvBucketReport report, StreamConfig current, FixSettings settings, bool named)
    {
        var codes = report.Findings.Select(f => f.Code).ToHashSet(StringComparer.Ordinal);
        var updated = current;
        var diff = new List<string>();
        var manual = new List<string>();

        if ((codes.Contains(KvFindingCodes.UnboundedDeleteMap) || codes.Contains(KvFindingCodes.MarkersOff)) && current.Mirror is null)
        {
            updated = updated with { SubjectDeleteMarkerTTL = settings.MarkerTtl, AllowMsgTTL = true };
            Change(diff, "subject_delete_marker_ttl", Durations.Format(current.SubjectDeleteMarkerTTL), Durations.Format(settings.MarkerTtl));
            if (!current.AllowMsgTTL)
            {
                Change(diff, "allow_msg_ttl", "false", "true");
            }
        }

        if (settings.MaxAge is { } maxAge && maxAge != current.MaxAge &&
            (named || codes.Contains(KvFindingCodes.UnboundedDeleteMap) || codes.Contains(KvFindingCodes.FirstSeqPinned)))
        {
            updated = updated with
            {
                MaxAge = maxAge,
                DuplicateWindow = current.DuplicateWindow > maxAge && maxAge > TimeSpan.Zero ? maxAge : current.DuplicateWindow,
            };
            Change(diff, "max_age", Durations.Format(current.MaxAge), Durations.Format(maxAge));
        }

        if (codes.Contains(KvFindingCodes.MirrorWithoutTtl))
        {
            updated = updated with { AllowMsgTTL = true };
            Change(diff, "allow_msg_ttl", "false", "true");
        }

        if (codes.Contains(KvFindingCodes.HistoryWithTtl))
        {
            updated = updated with { MaxMsgsPerSubject = 1 };
            Change(diff, "max_msgs_per_subject (history)", current.MaxMsgsPerSubject.ToString(CultureInfo.InvariantCulture), "1");
        }

        var purge = codes.Contains(KvFindingCodes.PermanentTombstones) && current.Mirror is null;
        if (purge)
        {
            diff.Add(string.Create(CultureInfo.InvariantCulture,
                $"~ purge {report.Keys?.PermanentTombstones ?? 0:N0} permanent tombstones older than {Durations.Format(settings.TombstonesOlderThan)} (live values kept; newer tombstones trimmed to the tombstone)"));
        }

        foreach (var f in report.Findings.Where(f => f.Code is KvFindingCodes.FirstSeqPinned or KvFindingCodes.ServerTooOld ||
                                                     (f.Code == KvFindingCodes.PermanentTombstones && current.Mirror is not null)))
        {
            manual.Add($"{f.Code}: {f.Fix}");
        }

        return new FixPlan(report.Bucket, current, ReferenceEquals(updated, current) ? null : updated, diff, purge, manual);
    }

    /// <summary>Applies a plan; returns the tombstone messages removed.</summary>
    public static async Task<ulong> ApplyAsync(KvContext kv, FixPlan plan, FixSettings settings, CancellationToken cancellationToken)
    {
        if (plan.Updated is { } updated)
        {
            await kv.JetStream.UpdateStreamAsync(updated, cancellationToken).ConfigureAwait(false);
        }

        if (!plan.PurgeTombstones)
        {
            return 0;
        }

        var bucket = await kv.GetBucketAsync(plan.Bucket, cancellationToken).ConfigureAwait(false);
        return await bucket.PurgeDeletesAsync(settings.TombstonesOlderThan, cancellationToken).ConfigureAwait(false);
    }

    private static void Change(List<string> diff, string field, string from, string to)
    {
        diff.Add($"- {field}: {from}");
        diff.Add($"+ {field}: {to}");
    }
}

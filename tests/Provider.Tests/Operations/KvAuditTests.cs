using System.Globalization;
using CacheProvider.Operations;
using NATS.Client.JetStream.Models;

namespace CacheProvider.Tests.Operations;

public sealed class KvAuditTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 22, 12, 0, 0, TimeSpan.Zero);
    private static readonly Version Current = new(2, 15, 1);

    private static StreamInfo Info(long history = 1, TimeSpan maxAge = default, TimeSpan marker = default, bool ttl = false,
        long numDeleted = 0, long messages = 10, DateTimeOffset? firstTs = null, string? mirror = null) => new()
        {
            Config = new StreamConfig
            {
                Name = "KV_b",
                MaxMsgsPerSubject = history,
                MaxAge = maxAge,
                SubjectDeleteMarkerTTL = marker,
                AllowMsgTTL = ttl || marker > TimeSpan.Zero,
                Mirror = mirror is null ? null : new StreamSource { Name = "KV_" + mirror },
            },
            State = new StreamState { Messages = messages, Bytes = messages * 100, FirstSeq = 1, FirstTs = (firstTs ?? Now.AddMinutes(-1)).ToString("O", CultureInfo.InvariantCulture), NumDeleted = numDeleted },
        };

    private static string[] Codes(KvBucketReport r) => r.Findings.Select(f => f.Code).ToArray();

    [Fact]
    public void A_cache_like_bucket_has_no_findings()
    {
        var r = KvAudit.Evaluate(Info(marker: TimeSpan.FromSeconds(2), numDeleted: 1_000_000), Current, Now, new KvKeySnapshot(10, 10, 10, 0, 5, 0));
        Assert.Empty(r.Findings);
        Assert.Equal("b", r.Bucket);
    }

    [Fact]
    public void No_max_age_and_no_markers_with_many_deletes_is_a_warning_then_an_error()
    {
        Assert.Equal([KvFindingCodes.MarkersOff], Codes(KvAudit.Evaluate(Info(numDeleted: 9_999), Current, Now)));
        var warn = KvAudit.Evaluate(Info(numDeleted: 10_000), Current, Now);
        var f = Assert.Single(warn.Findings);
        Assert.Equal((KvFindingCodes.UnboundedDeleteMap, KvFindingSeverity.Warning), (f.Code, f.Severity));
        Assert.Contains("kv-doctor fix b --marker-ttl 2s", f.Fix);
        Assert.Equal(KvFindingSeverity.Error, KvAudit.Evaluate(Info(numDeleted: 1_000_000), Current, Now).Findings[0].Severity);

        // Either a max age or markers bound it (markers off is still reported).
        Assert.Equal([KvFindingCodes.MarkersOff], Codes(KvAudit.Evaluate(Info(numDeleted: 50_000, maxAge: TimeSpan.FromHours(1)), Current, Now)));
        Assert.Empty(KvAudit.Evaluate(Info(numDeleted: 50_000, marker: TimeSpan.FromSeconds(1)), Current, Now).Findings);
    }

    [Fact]
    public void Numbers_ratio_and_delete_map_estimate()
    {
        var r = KvAudit.Evaluate(Info(numDeleted: 300, messages: 100), Current, Now);
        Assert.Equal(0.75, r.DeletedRatio);
        Assert.Equal(300 * 24, r.DeleteMapBytesLow);
        Assert.Equal(300 * 48, r.DeleteMapBytesHigh);
        Assert.Equal(0, KvAudit.Evaluate(Info(messages: 0), Current, Now).DeletedRatio);
    }

    [Fact]
    public void Permanent_tombstones_are_counted_from_the_key_scan_only()
    {
        var thresholds = KvAuditThresholds.Default with { PermanentTombstones = 10 };
        var markers = Info(marker: TimeSpan.FromSeconds(2));
        Assert.Empty(KvAudit.Evaluate(markers, Current, Now, new KvKeySnapshot(9, 0, 0, 9, 0, 0), thresholds).Findings);
        Assert.Equal([KvFindingCodes.PermanentTombstones], Codes(KvAudit.Evaluate(markers, Current, Now, new KvKeySnapshot(10, 0, 0, 10, 0, 0), thresholds)));
        Assert.Empty(KvAudit.Evaluate(markers, Current, Now, new KvKeySnapshot(100, 0, 0, 0, 100, 0), thresholds).Findings);
        Assert.Empty(KvAudit.Evaluate(markers, Current, Now, null, thresholds).Findings);
    }

    [Fact]
    public void A_mirror_without_allow_msg_ttl_is_an_error_and_with_it_is_clean()
    {
        var r = KvAudit.Evaluate(Info(mirror: "origin", numDeleted: 100_000), Current, Now);
        var f = Assert.Single(r.Findings);
        Assert.Equal((KvFindingCodes.MirrorWithoutTtl, KvFindingSeverity.Error), (f.Code, f.Severity));
        Assert.Equal("origin", r.MirrorOrigin);
        Assert.Empty(KvAudit.Evaluate(Info(mirror: "origin", ttl: true), Current, Now).Findings);
    }

    [Fact]
    public void History_above_one_with_TTL_writes_is_an_error()
    {
        var ttlWrites = new KvKeySnapshot(1, 1, 1, 0, 0, 0);
        var noTtl = new KvKeySnapshot(1, 1, 0, 0, 0, 0);
        Assert.Equal([KvFindingCodes.HistoryWithTtl], Codes(KvAudit.Evaluate(Info(history: 5, marker: TimeSpan.FromSeconds(1)), Current, Now, ttlWrites)));
        Assert.Empty(KvAudit.Evaluate(Info(history: 5, marker: TimeSpan.FromSeconds(1)), Current, Now, noTtl).Findings);
        Assert.Empty(KvAudit.Evaluate(Info(history: 1, marker: TimeSpan.FromSeconds(1)), Current, Now, ttlWrites).Findings);

        // Without a scan, allow_msg_ttl stands for "TTL'd writes possible".
        Assert.Equal([KvFindingCodes.HistoryWithTtl], Codes(KvAudit.Evaluate(Info(history: 5, ttl: true, marker: TimeSpan.FromSeconds(1)), Current, Now)));
        Assert.Equal([KvFindingCodes.HistoryWithTtl, KvFindingCodes.MarkersOff], Codes(KvAudit.Evaluate(Info(history: 5, ttl: true), Current, Now)));
        Assert.Equal([KvFindingCodes.MarkersOff], Codes(KvAudit.Evaluate(Info(history: 5), Current, Now))); // no TTL writes possible: no history finding
    }

    [Fact]
    public void Markers_off_is_reported_with_few_deletes_a_warning_where_keys_expire_a_note_where_none_do()
    {
        // Values with a TTL (scan), a max age, or (without a scan) per-key TTLs allowed: expiries nobody hears of.
        var ttlValues = new KvKeySnapshot(5, 5, 3, 0, 0, 0);
        foreach (var report in new[]
                 {
                     KvAudit.Evaluate(Info(ttl: true, numDeleted: 3), Current, Now, ttlValues),
                     KvAudit.Evaluate(Info(maxAge: TimeSpan.FromHours(1)), Current, Now, KvKeySnapshot.Empty),
                     KvAudit.Evaluate(Info(ttl: true), Current, Now),
                 })
        {
            var f = Assert.Single(report.Findings);
            Assert.Equal((KvFindingCodes.MarkersOff, KvFindingSeverity.Warning, "b"), (f.Code, f.Severity, f.Bucket));
            Assert.StartsWith("Limit markers off while keys expire here", f.Message, StringComparison.Ordinal);
            Assert.Contains("watchers never learn of it", f.Message, StringComparison.Ordinal);
            Assert.StartsWith("kv-doctor fix b --marker-ttl 2s --yes", f.Fix, StringComparison.Ordinal);
        }

        Assert.Contains("3 value(s) with a TTL", KvAudit.Evaluate(Info(ttl: true), Current, Now, ttlValues).Findings[0].Message, StringComparison.Ordinal);

        // Nothing expires (no TTL'd values, no max age): a note, not a warning.
        var plain = Assert.Single(KvAudit.Evaluate(Info(), Current, Now, new KvKeySnapshot(5, 5, 0, 0, 0, 0)).Findings);
        Assert.Equal((KvFindingCodes.MarkersOff, KvFindingSeverity.Info), (plain.Code, plain.Severity));
        Assert.Equal(KvFindingSeverity.Info, KvAudit.Evaluate(Info(ttl: true), Current, Now, new KvKeySnapshot(5, 5, 0, 0, 5, 0)).Findings[0].Severity);

        // Markers on, or a mirror (which cannot have them): nothing.
        Assert.Empty(KvAudit.Evaluate(Info(marker: TimeSpan.FromSeconds(2)), Current, Now, ttlValues).Findings);
        Assert.Empty(KvAudit.Evaluate(Info(mirror: "origin", ttl: true), Current, Now, ttlValues).Findings);
    }

    [Fact]
    public void An_old_first_message_pins_first_seq()
    {
        var old = KvAudit.Evaluate(Info(numDeleted: 20_000, marker: TimeSpan.FromSeconds(1), firstTs: Now.AddDays(-3)), Current, Now);
        Assert.True(old.FirstSeqPinned);
        Assert.Equal([KvFindingCodes.FirstSeqPinned], Codes(old));
        Assert.False(KvAudit.Evaluate(Info(numDeleted: 20_000, firstTs: Now.AddHours(-1), marker: TimeSpan.FromSeconds(1)), Current, Now).FirstSeqPinned);

        // With a max age, "old" means older than twice the max age (a "never" TTL survives max age).
        Assert.True(KvAudit.Evaluate(Info(numDeleted: 5, maxAge: TimeSpan.FromMinutes(10), firstTs: Now.AddMinutes(-30)), Current, Now).FirstSeqPinned);
    }

    [Fact]
    public void Servers_older_than_2_12_1_are_an_error()
    {
        Assert.Null(KvAudit.CheckServer(new Version(2, 12, 1)));
        Assert.Null(KvAudit.CheckServer(Current));
        var f = KvAudit.CheckServer(new Version(2, 11, 10));
        Assert.NotNull(f);
        Assert.Equal((KvFindingCodes.ServerTooOld, KvFindingSeverity.Error, (string?)null), (f.Code, f.Severity, f.Bucket));
        Assert.Contains("2.12.1", f.Fix);
    }
}

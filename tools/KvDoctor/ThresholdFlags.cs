using System.CommandLine;
using CacheProvider.Operations;

namespace CacheProvider.KvDoctor;

/// <summary>Flags that tune when <c>audit</c> and <c>fix</c> report a finding.</summary>
internal sealed class ThresholdFlags
{
    public Option<long> ManyDeletes { get; } = new("--many-deletes") { Description = "Interior deletes (num_deleted) that count as many", DefaultValueFactory = _ => KvAuditThresholds.Default.ManyDeletes };

    public Option<long> Tombstones { get; } = new("--tombstones") { Description = "Permanent tombstones from which they are reported", DefaultValueFactory = _ => KvAuditThresholds.Default.PermanentTombstones };

    public Option<string> PinnedAge { get; } = new("--pinned-age") { Description = "Age of the first message that counts as pinning first_seq (buckets without max_age)", DefaultValueFactory = _ => "1d" };

    public Option<bool> NoScan { get; } = new("--no-scan") { Description = "Skip the per-key scan (no tombstone count; TTL use judged from the config)" };

    public void AddTo(Command command)
    {
        command.Add(ManyDeletes);
        command.Add(Tombstones);
        command.Add(PinnedAge);
        command.Add(NoScan);
    }

    public KvAuditThresholds ToThresholds(ParseResult parse)
    {
        var many = parse.GetValue(ManyDeletes);
        var tombstones = parse.GetValue(Tombstones);
        if (many < 0 || tombstones < 1)
        {
            throw new UsageException("--many-deletes must be ≥ 0 and --tombstones ≥ 1");
        }

        return KvAuditThresholds.Default with
        {
            ManyDeletes = many,
            PermanentTombstones = tombstones,
            PinnedAge = Durations.Parse(parse.GetValue(PinnedAge) ?? "1d", "--pinned-age"),
        };
    }
}

using System.CommandLine;
using System.Globalization;
using CacheProvider.KvDoctor.Audit;
using CacheProvider.KeyValue;

namespace CacheProvider.KvDoctor.Commands;

/// <summary><c>fix [bucket...]</c>: shows (default) or applies (<c>--yes</c>) the fixes for the audit findings.</summary>
internal static class FixCommand
{
    public static Command Create(ToolIo io, ConnectionFlags connection, ThresholdFlags thresholds)
    {
        var buckets = new Argument<string[]>("bucket") { Description = "Buckets to fix (default: every bucket with findings)", Arity = ArgumentArity.ZeroOrMore };
        var yes = new Option<bool>("--yes", "-y") { Description = "Apply the changes (without it: dry run, prints the diff)" };
        var markerTtl = new Option<string>("--marker-ttl") { Description = "Limit marker TTL to enable where markers are off", DefaultValueFactory = _ => "2s" };
        var maxAge = new Option<string?>("--max-age") { Description = "Set this bucket max_age (also expires live values older than it!)" };
        var olderThan = new Option<string>("--older-than") { Description = "Purge tombstones older than this entirely (newer: trimmed to the tombstone)", DefaultValueFactory = _ => "30m" };
        var command = new Command("fix", "Fix the audit findings: enable markers, set max_age, allow TTL on mirrors, history 1, purge tombstones") { buckets, yes, markerTtl, maxAge, olderThan };
        thresholds.AddTo(command);
        command.SetAction((parse, ct) => Runner.RunAsync(io, connection, parse, () =>
        {
            var marker = Durations.Parse(parse.GetValue(markerTtl) ?? "2s", "--marker-ttl");
            if (marker < TimeSpan.FromSeconds(1))
            {
                throw new UsageException("--marker-ttl must be at least 1s (the server's minimum)");
            }

            var settings = new FixSettings(
                marker,
                parse.GetValue(maxAge) is { } ma ? Durations.Parse(ma, "--max-age") : null,
                Durations.Parse(parse.GetValue(olderThan) ?? "30m", "--older-than"));
            return (settings, thresholds.ToThresholds(parse));
        }, async (nats, prepared) =>
        {
            var (settings, limits) = prepared;
            var named = parse.GetValue(buckets) ?? [];
            var apply = parse.GetValue(yes);
            var result = await AuditRunner.RunAsync(nats, named, limits, !parse.GetValue(thresholds.NoScan), ct).ConfigureAwait(false);
            var kv = new KvContext(nats);
            var changed = 0;
            foreach (var f in result.ServerFindings)
            {
                await io.Out.WriteLineAsync($"server: {f.Code}: manual fix: {f.Fix}").ConfigureAwait(false);
            }

            foreach (var report in result.Buckets)
            {
                var bucket = await AuditRunner.BindAsync(kv, report.Bucket, ct).ConfigureAwait(false);
                var plan = FixPlanner.Plan(report, bucket.Info.Config, settings, named.Length > 0);
                if (!plan.HasChanges && plan.Manual.Count == 0)
                {
                    continue;
                }

                await io.Out.WriteLineAsync($"{report.Bucket} (stream KV_{report.Bucket}):").ConfigureAwait(false);
                foreach (var line in plan.Diff)
                {
                    await io.Out.WriteLineAsync("  " + line).ConfigureAwait(false);
                }

                foreach (var line in plan.Manual)
                {
                    await io.Out.WriteLineAsync("  ! manual: " + line).ConfigureAwait(false);
                }

                if (apply && plan.HasChanges)
                {
                    var removed = await FixPlanner.ApplyAsync(kv, plan, settings, ct).ConfigureAwait(false);
                    changed++;
                    await io.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"  applied{(plan.PurgeTombstones ? $" ({removed:N0} tombstone messages purged)" : "")}")).ConfigureAwait(false);
                }
            }

            if (!apply)
            {
                await io.Out.WriteLineAsync("Dry run: nothing changed. Re-run with --yes to apply.").ConfigureAwait(false);
            }
            else
            {
                await io.Out.WriteLineAsync($"Fixed {changed} bucket(s). Run 'kv-doctor audit' to confirm.").ConfigureAwait(false);
            }

            return ExitCodes.Ok;
        }, ct));
        return command;
    }
}

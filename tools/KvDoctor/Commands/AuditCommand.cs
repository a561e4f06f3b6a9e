using System.CommandLine;
using CacheProvider.KvDoctor.Audit;
using CacheProvider.Operations;

namespace CacheProvider.KvDoctor.Commands;

/// <summary><c>audit [bucket...]</c>: every KV bucket's hygiene numbers and findings.</summary>
internal static class AuditCommand
{
    public static Command Create(ToolIo io, ConnectionFlags connection, ThresholdFlags thresholds)
    {
        var buckets = new Argument<string[]>("bucket") { Description = "Buckets to audit (default: all)", Arity = ArgumentArity.ZeroOrMore };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of tables" };
        var failOn = new Option<string>("--fail-on") { Description = "Exit 1 when a finding has this severity or worse: none, warning, error", DefaultValueFactory = _ => "none" };
        failOn.AcceptOnlyFromAmong("none", "info", "warning", "error");
        var command = new Command("audit", "Audit every KV bucket: tombstones, delete map, markers, TTL, mirrors") { buckets, json, failOn };
        thresholds.AddTo(command);
        command.SetAction((parse, ct) => Runner.RunAsync(io, connection, parse, () => thresholds.ToThresholds(parse), async (nats, t) =>
        {
            var result = await AuditRunner.RunAsync(nats, parse.GetValue(buckets) ?? [], t, !parse.GetValue(thresholds.NoScan), ct).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                AuditRenderer.WriteJson(result, io.Out);
            }
            else
            {
                AuditRenderer.WriteTables(result, io.Console);
            }

            return Fails(result, parse.GetValue(failOn)) ? ExitCodes.Findings : ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static bool Fails(AuditResult result, string? failOn)
    {
        KvFindingSeverity? limit = failOn switch
        {
            "info" => KvFindingSeverity.Info,
            "warning" => KvFindingSeverity.Warning,
            "error" => KvFindingSeverity.Error,
            _ => null,
        };
        return limit is { } l && result.AllFindings.Any(f => f.Severity >= l);
    }
}

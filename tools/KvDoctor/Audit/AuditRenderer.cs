using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using CacheProvider.Operations;
using Spectre.Console;

namespace CacheProvider.KvDoctor.Audit;

/// <summary>Prints an <see cref="AuditResult"/> as tables or JSON.</summary>
internal static class AuditRenderer
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower), new TimeSpanSecondsConverter() },
    };

    public static void WriteJson(AuditResult result, TextWriter output)
    {
        var doc = new
        {
            server = result.Server,
            server_version = result.ServerVersion.ToString(),
            server_findings = result.ServerFindings,
            buckets = result.Buckets,
        };
        output.WriteLine(JsonSerializer.Serialize(doc, Json));
    }

    public static void WriteTables(AuditResult result, IAnsiConsole console)
    {
        console.MarkupLineInterpolated($"[bold]nats-server {result.ServerVersion}[/] at {result.Server}: {result.Buckets.Count} KV bucket(s)");
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var h in new[] { "bucket", "history", "max_age", "marker_ttl", "msg_ttl", "messages", "bytes", "num_deleted", "ratio", "first_seq pinned", "delete map", "tombstones", "mirror/sources" })
        {
            table.AddColumn(h);
        }

        foreach (var b in result.Buckets)
        {
            table.AddRow(
                Markup.Escape(b.Bucket),
                b.History.ToString(CultureInfo.InvariantCulture),
                b.MaxAge == TimeSpan.Zero ? "none" : Durations.Format(b.MaxAge),
                b.MarkerTtl == TimeSpan.Zero ? "off" : Durations.Format(b.MarkerTtl),
                b.AllowMsgTtl ? "yes" : "no",
                b.Messages.ToString("N0", CultureInfo.InvariantCulture),
                Size(b.Bytes),
                b.NumDeleted.ToString("N0", CultureInfo.InvariantCulture),
                b.DeletedRatio.ToString("P0", CultureInfo.InvariantCulture),
                b.FirstSeqPinned ? string.Create(CultureInfo.InvariantCulture, $"yes (seq {b.FirstSeq}, {b.FirstTime:u})") : "no",
                b.NumDeleted == 0 ? "-" : $"{Size((ulong)b.DeleteMapBytesLow)}–{Size((ulong)b.DeleteMapBytesHigh)}",
                b.Keys is { } k ? k.PermanentTombstones.ToString("N0", CultureInfo.InvariantCulture) : "not scanned",
                Markup.Escape(Mirror(b)));
        }

        console.Write(table);
        var findings = result.AllFindings.ToList();
        if (findings.Count == 0)
        {
            console.MarkupLine("[green]No findings.[/]");
            return;
        }

        var ft = new Table().Border(TableBorder.Rounded).AddColumn("severity").AddColumn("bucket").AddColumn("finding").AddColumn("what").AddColumn("fix");
        foreach (var f in findings)
        {
            var color = f.Severity switch { KvFindingSeverity.Error => "red", KvFindingSeverity.Warning => "yellow", _ => "blue" };
            ft.AddRow($"[{color}]{f.Severity.ToString().ToLowerInvariant()}[/]", Markup.Escape(f.Bucket ?? "(server)"), f.Code, Markup.Escape(f.Message), Markup.Escape(f.Fix));
        }

        console.Write(ft);
    }

    private static string Mirror(KvBucketReport b) =>
        b.MirrorOrigin is { } o ? string.Create(CultureInfo.InvariantCulture, $"mirror of {o} (lag {b.MirrorLag ?? 0})")
        : b.Sources.Count > 0 ? "sources " + string.Join(",", b.Sources)
        : "-";

    private static string Size(ulong bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        < 1024UL * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1048576.0:F1} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1073741824.0:F2} GiB"),
    };

    private sealed class TimeSpanSecondsConverter : JsonConverter<TimeSpan>
    {
        public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => TimeSpan.FromSeconds(reader.GetDouble());

        public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) => writer.WriteNumberValue(value.TotalSeconds);
    }
}

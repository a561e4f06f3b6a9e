using System.Text.Json;
using CacheProvider.KeyValue;

namespace CacheProvider.KvDoctor.Tests;

public sealed class AuditFixTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Audit_flags_each_planted_bucket_and_nothing_else_then_fix_resolves_each()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        await Planted.PlantAsync(nats);
        await Task.Delay(500); // the mirror catches up

        var (code, json, _) = await Doctor.RunAsync(output, ["audit", "--json", "-s", server.Url, .. Planted.Thresholds]);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal(Planted.Expected.Order(), Findings(json).Order());
        var buckets = JsonDocument.Parse(json).RootElement.GetProperty("buckets").EnumerateArray().ToDictionary(b => b.GetProperty("bucket").GetString()!);
        Assert.Equal(7, buckets.Count);
        Assert.Equal(59, buckets["deletemap"].GetProperty("num_deleted").GetInt64());
        Assert.Equal(59 * 24, buckets["deletemap"].GetProperty("delete_map_bytes_low").GetInt64());
        Assert.Equal(20, buckets["tombstones"].GetProperty("keys").GetProperty("permanent_tombstones").GetInt64());
        Assert.Equal("origin", buckets["mirror"].GetProperty("mirror_origin").GetString());

        // Errors (mirror, history) fail the run only when asked to.
        Assert.Equal(ExitCodes.Findings, (await Doctor.RunAsync(output, ["audit", "-s", server.Url, "--fail-on", "error", .. Planted.Thresholds])).Code);
        var (_, table, _) = await Doctor.RunAsync(output, ["audit", "-s", server.Url, .. Planted.Thresholds]);
        foreach (var (bucket, finding) in Planted.Expected)
        {
            Assert.Contains(bucket, table);
            Assert.Contains(finding, table);
        }

        // Dry run: a diff, no change.
        var (dryCode, diff, _) = await Doctor.RunAsync(output, ["fix", "-s", server.Url, "--older-than", "0s", .. Planted.Thresholds]);
        Assert.Equal(ExitCodes.Ok, dryCode);
        Assert.Contains("- subject_delete_marker_ttl: 0s", diff);
        Assert.Contains("+ subject_delete_marker_ttl: 2s", diff);
        Assert.Contains("+ allow_msg_ttl: true", diff);
        Assert.Contains("+ max_msgs_per_subject (history): 1", diff);
        Assert.Contains("purge 20 permanent tombstones", diff);
        Assert.Contains("Dry run", diff);
        Assert.DoesNotContain("clean", diff);
        var (_, again, _) = await Doctor.RunAsync(output, ["audit", "--json", "-s", server.Url, .. Planted.Thresholds]);
        Assert.Equal(Planted.Expected.Order(), Findings(again).Order());

        // Apply.
        var (fixCode, applied, _) = await Doctor.RunAsync(output, ["fix", "--yes", "-s", server.Url, "--older-than", "0s", .. Planted.Thresholds]);
        Assert.Equal(ExitCodes.Ok, fixCode);
        Assert.Contains("Fixed 5 bucket(s)", applied);
        var (afterCode, after, _) = await Doctor.RunAsync(output, ["audit", "--json", "-s", server.Url, "--fail-on", "warning", .. Planted.Thresholds]);
        Assert.Equal(ExitCodes.Ok, afterCode);
        Assert.Empty(Findings(after));

        // Live values survived the tombstone purge and the history change.
        var kv = new KvContext(nats);
        Assert.Equal("v2"u8.ToArray(), (await (await kv.GetBucketAsync("hist")).GetAsync("h"))!.Value.ToArray());
        Assert.NotNull(await (await kv.GetBucketAsync("deletemap")).GetAsync("pin"));
        Assert.Equal(0UL, (await kv.GetStatusAsync("tombstones")).Values);
    }

    [Fact]
    public async Task A_bucket_with_markers_off_and_few_deletes_is_reported_and_fix_makes_its_expiries_seen()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var kv = new KvContext(nats);
        var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "sessions", AllowMsgTtl = true });
        await bucket.PutAsync("s1", "v"u8.ToArray(), TimeSpan.FromMinutes(20));
        for (var i = 0; i < 3; i++)
        {
            await bucket.PutAsync($"d{i}", "v"u8.ToArray());
            await bucket.DeleteAsync($"d{i}");
        }

        // Default thresholds (10,000 deletes for the delete-map finding): markers off is reported all the same.
        var (code, table, _) = await Doctor.RunAsync(output, ["audit", "sessions", "-s", server.Url, "--fail-on", "warning"]);
        Assert.Equal(ExitCodes.Findings, code);
        Assert.DoesNotContain("No findings", table);
        Assert.Contains("markers-off", table);
        var (_, json, _) = await Doctor.RunAsync(output, ["audit", "sessions", "--json", "-s", server.Url]);
        var finding = JsonDocument.Parse(json).RootElement.GetProperty("buckets")[0].GetProperty("findings")[0];
        Assert.Equal("markers-off", finding.GetProperty("code").GetString());
        Assert.Equal("warning", finding.GetProperty("severity").GetString());
        Assert.Contains("1 value(s) with a TTL", finding.GetProperty("message").GetString());
        Assert.Contains("watchers never learn of it", finding.GetProperty("message").GetString());

        var (fixCode, fixOut, _) = await Doctor.RunAsync(output, ["fix", "sessions", "--yes", "-s", server.Url]);
        Assert.Equal(ExitCodes.Ok, fixCode);
        Assert.Contains("+ subject_delete_marker_ttl: 2s", fixOut);
        Assert.Equal(TimeSpan.FromSeconds(2), (await kv.GetStatusAsync("sessions")).LimitMarkerTtl);
        Assert.Empty(Findings((await Doctor.RunAsync(output, ["audit", "sessions", "--json", "-s", server.Url])).Out));

        // What the fix buys: an expiry now reaches a watcher as a marker.
        var fixedBucket = await kv.GetBucketAsync("sessions");
        await using var watch = await fixedBucket.StartWatchAsync(["short"], new KvWatchOptions { UpdatesOnly = true });
        await fixedBucket.PutAsync("short", "v"u8.ToArray(), TimeSpan.FromSeconds(1));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var expired = false;
        await foreach (var e in watch.ReadAllAsync(cts.Token))
        {
            if (e.MarkerReason == KvMarkerReason.Expired)
            {
                expired = true;
                break;
            }
        }

        Assert.True(expired);
    }

    [Fact]
    public async Task Fix_sets_max_age_on_a_named_bucket_only_with_yes()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var kv = new KvContext(nats);
        await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "b" });

        var (_, dry, _) = await Doctor.RunAsync(output, ["fix", "b", "--max-age", "1h", "-s", server.Url]);
        Assert.Contains("+ max_age: 1h", dry);
        Assert.Equal(TimeSpan.Zero, (await kv.GetStatusAsync("b")).MaxAge);

        await Doctor.RunAsync(output, ["fix", "b", "--max-age", "1h", "--yes", "-s", server.Url]);
        Assert.Equal(TimeSpan.FromHours(1), (await kv.GetStatusAsync("b")).MaxAge);
    }

    internal static List<(string Bucket, string Code)> Findings(string json)
    {
        var root = JsonDocument.Parse(json).RootElement;
        var list = new List<(string, string)>();
        foreach (var f in root.GetProperty("server_findings").EnumerateArray())
        {
            list.Add(("(server)", f.GetProperty("code").GetString()!));
        }

        foreach (var b in root.GetProperty("buckets").EnumerateArray())
        {
            foreach (var f in b.GetProperty("findings").EnumerateArray())
            {
                list.Add((f.GetProperty("bucket").GetString()!, f.GetProperty("code").GetString()!));
            }
        }

        return list;
    }
}

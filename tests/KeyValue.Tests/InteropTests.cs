using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using CacheProvider.KeyValue;

namespace CacheProvider.KeyValue.Tests;

/// <summary>
/// Our KV client and the official JS client (<c>@nats-io/kv</c> 3.4, via the scripts in <c>js/interop/</c>) on the
/// same real server: each reads what the other wrote, TTL expiry and purge tombstones cross over, and the one known
/// difference (the JS client's keys() lists keys that only hold an expiry marker) is shown. Without node or
/// js/node_modules these tests fail with instructions; they never pass silently.
/// </summary>
public sealed class InteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(60);

    private static ReadOnlyMemory<byte> Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static string Text(KvEntry? e) => e is null ? "<none>" : Encoding.UTF8.GetString(e.Value.Span);

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(x => x.GetString()!).ToList();

    [Fact]
    public async Task Bucket_written_by_us_is_read_by_the_js_client_with_same_values_revisions_and_keys()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync("ours", TimeSpan.FromSeconds(1));
        var revA = await bucket.PutAsync("a", Bytes("alpha"));
        var revBc = await bucket.PutAsync("b.c", Bytes("nested"));
        var revT = await bucket.PutAsync("ttl", Bytes("lives 30 s"), TimeSpan.FromSeconds(30));
        await bucket.PutAsync("d", Bytes("doomed"));
        var revDel = await bucket.DeleteAsync("d");
        await bucket.PutAsync("p", Bytes("purged"));
        var revPurge = await bucket.PurgeAsync("p");

        var js = await RunNodeAsync("read.mjs", h.Server.Url, "ours", "a", "b.c", "ttl", "d", "p", "never");

        Assert.Equal(["a", "b.c", "ttl"], Strings(js.GetProperty("keys")));
        var entries = js.GetProperty("entries");
        AssertEntry(entries.GetProperty("a"), "alpha", revA, "PUT");
        AssertEntry(entries.GetProperty("b.c"), "nested", revBc, "PUT");
        AssertEntry(entries.GetProperty("ttl"), "lives 30 s", revT, "PUT");
        AssertEntry(entries.GetProperty("d"), "", revDel, "DEL");
        AssertEntry(entries.GetProperty("p"), "", revPurge, "PURGE");
        Assert.Equal(JsonValueKind.Null, entries.GetProperty("never").ValueKind);
        Assert.Equal(1000, js.GetProperty("status").GetProperty("markerTTL").GetInt32());
        Assert.Equal(1, js.GetProperty("status").GetProperty("history").GetInt32());
    }

    [Fact]
    public async Task Bucket_created_and_written_by_the_js_client_is_read_by_us()
    {
        await using var h = await KvHarness.StartAsync(output);
        var js = await RunNodeAsync("write.mjs", h.Server.Url, "theirs", "1000", "a=alpha", "b.c=nested", "a=alpha2");
        var revisions = js.GetProperty("revisions");
        var config = js.GetProperty("config");
        Assert.True(config.GetProperty("allow_msg_ttl").GetBoolean());

        var bucket = await h.Kv.GetBucketAsync("theirs");
        var a = await bucket.GetAsync("a");
        Assert.Equal(("alpha2", revisions.GetProperty("a").GetUInt64()), (Text(a), a!.Revision));
        var bc = await bucket.GetAsync("b.c", KvReadMode.Leader);
        Assert.Equal(("nested", revisions.GetProperty("b.c").GetUInt64()), (Text(bc), bc!.Revision));
        Assert.Equal(["a", "b.c"], (await bucket.KeysAsync().ToListAsync()).Order().ToList());

        var status = await bucket.GetStatusAsync();
        Assert.Equal(TimeSpan.FromSeconds(1), status.LimitMarkerTtl);
        Assert.True(status.AllowMsgTtl);
        Assert.Equal(1, status.History);
        Assert.Equal(2UL, status.Values);

        // Our writes (with a TTL) to their bucket work too, and they see them.
        var rev = await bucket.PutAsync("ours", Bytes("from .NET"), TimeSpan.FromSeconds(30));
        var back = await RunNodeAsync("read.mjs", h.Server.Url, "theirs", "ours");
        AssertEntry(back.GetProperty("entries").GetProperty("ours"), "from .NET", rev, "PUT");
    }

    [Fact]
    public async Task Key_created_with_a_ttl_by_the_js_client_expires_and_our_watcher_reports_Expired()
    {
        await using var h = await KvHarness.StartAsync(output);
        await RunNodeAsync("write.mjs", h.Server.Url, "theirs", "1000");
        var bucket = await h.Kv.GetBucketAsync("theirs");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var seen = new List<KvEntry>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in bucket.WatchAsync(">", new KvWatchOptions { UpdatesOnly = true }, cts.Token))
            {
                seen.Add(e);
                if (e.MarkerReason != KvMarkerReason.None)
                {
                    return;
                }
            }
        });
        await Task.Delay(300); // the watch's consumer is in place well before the write below

        // @nats-io/kv 3.4: create(key, value, ttl) sends the third argument as the Nats-TTL header.
        var js = await RunNodeAsync("create-ttl.mjs", h.Server.Url, "theirs", "session", "token", "1s");
        var created = js.GetProperty("revision").GetUInt64();
        await watching;

        var put = seen[0];
        Assert.Equal(("session", "token", created, TimeSpan.FromSeconds(1)), (put.Key, Text(put), put.Revision, put.Ttl));
        Assert.True(put.IsValue);
        var marker = seen[^1];
        Assert.Equal("session", marker.Key);
        Assert.Equal(KvMarkerReason.Expired, marker.MarkerReason);
        Assert.Equal(KvOperation.Purge, marker.Operation);
        Assert.True(marker.Revision > created);
        Assert.Null(await bucket.GetAsync("session"));
    }

    [Fact]
    public async Task Our_purge_with_a_tombstone_ttl_is_seen_by_the_js_watcher_as_PURGE_and_then_leaves_nothing()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync("ours", TimeSpan.FromSeconds(1));
        await bucket.PutAsync("cart", Bytes("3 items"));

        using var watcher = StartNode("watch.mjs", h.Server.Url, "ours", ">", "cart", "PURGE", "30000");
        var stderr = watcher.StandardError.ReadToEndAsync();
        var ready = await ReadLineAsync(watcher, stderr);
        Assert.True(ready.GetProperty("ready").GetBoolean());

        var purgeRev = await bucket.PurgeAsync("cart", tombstoneTtl: TimeSpan.FromSeconds(1));

        var lines = new List<JsonElement>();
        while (await ReadLineOrEndAsync(watcher) is { } line)
        {
            lines.Add(line);
        }

        await WaitForExitAsync(watcher, "watch.mjs", stderr);
        var last = lines.Select(l => l.GetProperty("entry")).Last();
        Assert.Equal("cart", last.GetProperty("key").GetString());
        Assert.Equal("PURGE", last.GetProperty("operation").GetString());
        Assert.Equal(purgeRev, last.GetProperty("revision").GetUInt64());

        // The tombstone removes itself and the server writes no marker for it: the bucket ends empty for both clients.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await bucket.GetStatusAsync()).Values != 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "purge tombstone with TTL never went away");
            await Task.Delay(100);
        }

        var js = await RunNodeAsync("read.mjs", h.Server.Url, "ours", "cart");
        Assert.Equal(JsonValueKind.Null, js.GetProperty("entries").GetProperty("cart").ValueKind);
        Assert.Empty(Strings(js.GetProperty("keys")));
    }

    [Fact]
    public async Task Js_client_keys_lists_a_key_holding_only_an_expiry_marker_while_ours_does_not()
    {
        await using var h = await KvHarness.StartAsync(output);
        var bucket = await h.TtlBucketAsync("ours", TimeSpan.FromSeconds(20)); // the marker outlives the checks below
        await bucket.PutAsync("live", Bytes("stays"));
        await bucket.PutAsync("gone", Bytes("expires"), TimeSpan.FromSeconds(1));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await bucket.GetLastAsync("gone"))?.MarkerReason != KvMarkerReason.Expired)
        {
            Assert.True(DateTime.UtcNow < deadline, "no expiry marker for 'gone'");
            await Task.Delay(100);
        }

        var js = await RunNodeAsync("read.mjs", h.Server.Url, "ours", "gone", "live");

        // Their keys() only skips KV-Operation DEL/PURGE headers; a marker has none, so the expired key is listed.
        Assert.Equal(["gone", "live"], Strings(js.GetProperty("keys")));
        var gone = js.GetProperty("entries").GetProperty("gone");
        Assert.Equal("PURGE", gone.GetProperty("operation").GetString()); // their get() does map the marker
        Assert.Equal(["live"], await bucket.KeysAsync().ToListAsync());
        Assert.Null(await bucket.GetAsync("gone"));
    }

    private static void AssertEntry(JsonElement e, string value, ulong revision, string operation)
    {
        Assert.Equal(JsonValueKind.Object, e.ValueKind);
        Assert.Equal((value, revision, operation), (e.GetProperty("value").GetString(), e.GetProperty("revision").GetUInt64(), e.GetProperty("operation").GetString()));
    }

    /// <summary>Runs a script to completion and parses its single JSON output line.</summary>
    private async Task<JsonElement> RunNodeAsync(string script, params string[] args)
    {
        using var p = StartNode(script, args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await WaitForExitAsync(p, script, stderr);
        var text = await stdout;
        output.WriteLine($"node {script} {string.Join(' ', args)} -> {text.Trim()}");
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException ex)
        {
            Assert.Fail($"node {script} printed no JSON ({ex.Message}):\n{text}\nstderr: {await stderr}");
            throw;
        }
    }

    private static Process StartNode(string script, params string[] args)
    {
        var root = NatsServerLocator.RepositoryRoot;
        var kv = Path.Combine(root, "js", "node_modules", "@nats-io", "kv");
        if (!Directory.Exists(kv))
        {
            Assert.Fail($"Interop tests need the official NATS JS client, but {kv} is missing. Install it with scripts/install-node-deps.sh (or `cd js && npm install`); needs Node.js >= 20 with npm.");
        }

        var psi = new ProcessStartInfo("node")
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(root, "js", "interop", script));
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        try
        {
            return Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        }
        catch (Win32Exception ex)
        {
            Assert.Fail($"Interop tests need `node` (Node.js >= 20) on PATH to run the official NATS JS client: {ex.Message}");
            throw;
        }
    }

    private static async Task WaitForExitAsync(Process p, string script, Task<string> stderr)
    {
        using var cts = new CancellationTokenSource(NodeTimeout);
        try
        {
            await p.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true); // the node process this test started
            Assert.Fail($"node {script} did not finish within {NodeTimeout.TotalSeconds} s");
        }

        if (p.ExitCode != 0)
        {
            Assert.Fail($"node {script} exited with {p.ExitCode}:\n{await stderr}");
        }
    }

    private static async Task<JsonElement> ReadLineAsync(Process p, Task<string> stderr)
    {
        if (await ReadLineOrEndAsync(p) is { } line)
        {
            return line;
        }

        await p.WaitForExitAsync();
        Assert.Fail($"node ended before printing anything (exit {p.ExitCode}):\n{await stderr}");
        throw new InvalidOperationException();
    }

    private static async Task<JsonElement?> ReadLineOrEndAsync(Process p)
    {
        using var cts = new CancellationTokenSource(NodeTimeout);
        var line = await p.StandardOutput.ReadLineAsync(cts.Token);
        return line is null ? null : JsonDocument.Parse(line).RootElement.Clone();
    }
}

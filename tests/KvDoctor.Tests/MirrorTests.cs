using CacheProvider.KeyValue;

namespace CacheProvider.KvDoctor.Tests;

public sealed class MirrorTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_plain_mirror_fixed_by_the_tool_ends_identical_to_its_origin_after_all_TTLs()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var kv = new KvContext(nats);
        var origin = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "origin", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        await Planted.CreatePlainMirrorAsync(kv.JetStream, "mirror", "origin");
        await origin.PutAsync("keep", "forever"u8.ToArray());
        for (var i = 0; i < 5; i++)
        {
            await origin.PutAsync($"ttl{i}", "v"u8.ToArray(), TimeSpan.FromSeconds(1));
        }

        await origin.PutAsync("gone", "v"u8.ToArray());
        await origin.PurgeAsync("gone", TimeSpan.FromSeconds(1));

        var (code, json, _) = await Doctor.RunAsync(output, ["audit", "--json", "-s", server.Url]);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Equal([("mirror", "mirror-without-ttl")], AuditFixTests.Findings(json));
        Assert.Equal(ExitCodes.Ok, (await Doctor.RunAsync(output, ["fix", "--yes", "-s", server.Url])).Code);

        // TTL 1 s + marker TTL 1 s + sweeps: origin ends with just "keep"; the mirror must match it exactly.
        var deadline = DateTime.UtcNow.AddSeconds(15);
        string o, m;
        do
        {
            await Task.Delay(500);
            o = await DescribeAsync(kv, "origin");
            m = await DescribeAsync(kv, "mirror");
        }
        while ((o != m || !o.StartsWith("1 ", StringComparison.Ordinal)) && DateTime.UtcNow < deadline);

        output.WriteLine($"origin: {o}\nmirror: {m}");
        Assert.StartsWith("1 ", o);
        Assert.Equal(o, m);
        var (_, clean, _) = await Doctor.RunAsync(output, ["audit", "--json", "-s", server.Url]);
        Assert.Empty(AuditFixTests.Findings(clean));
    }

    [Fact]
    public async Task Mirror_add_creates_a_TTL_correct_mirror()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var kv = new KvContext(nats);
        var origin = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "sessions", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        await origin.PutAsync("s1", "v"u8.ToArray(), TimeSpan.FromSeconds(2));

        var (code, text, _) = await Doctor.RunAsync(output, ["mirror", "add", "sessions", "sessions-copy", "-s", server.Url]);
        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("allow_msg_ttl=true", text);
        var status = await kv.GetStatusAsync("sessions-copy");
        Assert.True(status.IsMirror);
        Assert.True(status.AllowMsgTtl);
        Assert.Equal("sessions", status.MirrorOrigin);
        Assert.Empty(AuditFixTests.Findings((await Doctor.RunAsync(output, ["audit", "--json", "-s", server.Url])).Out));

        // The mirror first copies the entry (and later the origin's expiry marker); then every copy expires on its own.
        // Waiting for "empty" alone could pass before the mirror copied anything.
        var deadline = DateTime.UtcNow.AddSeconds(20);
        var copied = false;
        ulong messages;
        do
        {
            messages = (await kv.GetStatusAsync("sessions-copy")).Messages;
            copied |= messages > 0;
            await Task.Delay(100);
        }
        while ((!copied || messages != 0) && DateTime.UtcNow < deadline);

        Assert.True(copied, "the mirror never copied the origin's entry");
        Assert.Equal(0UL, messages);
        Assert.Equal(ExitCodes.Usage, (await Doctor.RunAsync(output, ["mirror", "add", "nope", "x", "-s", server.Url])).Code);
    }

    /// <summary>"&lt;messages&gt; key@rev:op ..." of the last revision per key.</summary>
    private static async Task<string> DescribeAsync(KvContext kv, string name)
    {
        var bucket = await kv.GetBucketAsync(name);
        var parts = new List<string>();
        if (bucket.Info.State.Messages > 0)
        {
            await using var w = await bucket.StartWatchAsync([">"], new KvWatchOptions { HeadersOnly = true });
            await foreach (var e in w.ReadAllAsync())
            {
                parts.Add($"{e.Key}@{e.Revision}:{e.Operation}/{e.MarkerReason}");
                if (e.Delta == 0)
                {
                    break;
                }
            }
        }

        return $"{bucket.Info.State.Messages} {string.Join(' ', parts.Order(StringComparer.Ordinal))}";
    }
}

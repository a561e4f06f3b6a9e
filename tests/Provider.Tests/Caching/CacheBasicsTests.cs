using System.Buffers;
using System.Text;
using CacheProvider.Caching;
using CacheProvider.KeyValue;
using Microsoft.Extensions.Caching.Distributed;
using NATS.Client.Core;

namespace CacheProvider.Tests.Caching;

public sealed class CacheBasicsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Set_then_get_returns_the_callers_bytes_unchanged_and_any_KV_client_reads_them()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache();
        var value = Encoding.UTF8.GetBytes("hello world");
        await cache.SetAsync("greeting", value, new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) });
        Assert.Equal(value, await cache.GetAsync("greeting"));

        var raw = await (await new KvContext(h.Connect()).GetBucketAsync("cache")).GetAsync("greeting");
        Assert.Equal(value, raw!.Value.ToArray());
        Assert.Equal(TimeSpan.FromMinutes(5), raw.Ttl);
        Assert.True(raw.Headers!.TryGetValue("Cache-Abs", out var abs) && !string.IsNullOrEmpty(abs));
    }

    [Fact]
    public async Task Absolute_expiration_is_enforced_client_side_before_the_server_sweeps()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache();
        await cache.SetAsync("k", [1, 2, 3], new DistributedCacheEntryOptions { AbsoluteExpiration = DateTimeOffset.UtcNow.AddMilliseconds(300) });
        Assert.NotNull(await cache.GetAsync("k"));
        await Task.Delay(450);

        // The server TTL is rounded up to 1 s, so the message is still stored: the header deadline must win.
        var raw = await (await new KvContext(h.Connect()).GetBucketAsync("cache")).GetLastAsync("k");
        Assert.True(raw!.IsValue);
        Assert.Null(await cache.GetAsync("k"));
        var writer = new ArrayBufferWriter<byte>();
        Assert.False(await cache.TryGetAsync("k", writer));
        Assert.Equal(0, writer.WrittenCount);
    }

    [Fact]
    public async Task Remote_operations_emit_spans_with_bucket_and_key()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var spans = new System.Collections.Concurrent.ConcurrentQueue<System.Diagnostics.Activity>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = s => s.Name == "CacheProvider.Caching",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
            ActivityStopped = spans.Enqueue,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        var cache = h.Cache();
        await cache.SetAsync("traced", [1], new DistributedCacheEntryOptions());
        await cache.GetAsync("traced");
        await cache.RemoveAsync("traced");
        Assert.Equal(["cache.set", "cache.get", "cache.remove"], spans.Where(a => (string?)a.GetTagItem("nats.kv.key") == "traced").Select(a => a.OperationName).ToArray());
        Assert.All(spans, a => Assert.Equal("cache", a.GetTagItem("nats.kv.bucket")));
    }

    [Fact]
    public async Task A_value_over_the_servers_max_payload_is_refused_and_the_connection_stays_up()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache();
        await Assert.ThrowsAsync<NatsPayloadTooLargeException>(() => cache.SetAsync("big", new byte[2 * 1024 * 1024], new DistributedCacheEntryOptions()));
        await cache.SetAsync("small", [7], new DistributedCacheEntryOptions());
        Assert.Equal([7], (await cache.GetAsync("small"))!);
    }

    [Fact]
    public async Task Remove_leaves_no_permanent_tombstone()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache(o => o.RemoveTombstoneTtl = TimeSpan.FromSeconds(1));
        for (var i = 0; i < 50; i++)
        {
            await cache.SetAsync($"k{i}", [1], new DistributedCacheEntryOptions());
            await cache.RemoveAsync($"k{i}");
        }

        Assert.Null(await cache.GetAsync("k0"));
        var kv = new KvContext(h.Connect());
        var deadline = DateTime.UtcNow.AddSeconds(10);
        KvBucketStatus status;
        do
        {
            await Task.Delay(250);
            status = await kv.GetStatusAsync("cache");
        }
        while (status.Values > 0 && DateTime.UtcNow < deadline);
        Assert.Equal(0UL, status.Values);
    }

    [Fact]
    public async Task Entries_survive_a_server_restart_mid_use()
    {
        await using var h = await CacheHarness.StartAsync(output);
        var cache = h.Cache();
        await cache.SetAsync("durable", [4, 2], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
        await h.Server.KillAsync();
        await h.Server.StartAgainAsync();
        byte[]? value = null;
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (value is null && DateTime.UtcNow < deadline)
        {
            try
            {
                value = await cache.GetAsync("durable");
            }
            catch (NatsException)
            {
                await Task.Delay(100);
            }
        }

        Assert.Equal([4, 2], value!);
    }
}

using System.Text;
using CacheProvider.KeyValue;

namespace CacheProvider.KeyValue.Tests;

/// <summary>A bucket that sources other buckets stores their keys under its own name.</summary>
public sealed class KvSourceTests(ITestOutputHelper output)
{
    private static ReadOnlyMemory<byte> Bytes(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Keys_sourced_from_other_buckets_read_as_keys_of_the_sourcing_bucket()
    {
        await using var h = await KvHarness.StartAsync(output);
        var east = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "east" });
        var west = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "west" });
        await east.PutAsync("e1", Bytes("from-east"));
        var all = await h.Kv.CreateBucketAsync(new KvBucketConfig
        {
            Bucket = "all",
            Sources = [new KvMirror { Bucket = "east" }, new KvMirror { Bucket = "west" }],
        });
        await all.PutAsync("own", Bytes("local"));
        await west.PutAsync("w1", Bytes("from-west"));
        await east.DeleteAsync("e1");
        await east.PutAsync("e2", Bytes("later"));

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await all.GetAsync("e2", KvReadMode.Leader) is null || await all.GetAsync("w1", KvReadMode.Leader) is null) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        Assert.Equal("from-west", Encoding.UTF8.GetString((await all.GetAsync("w1"))!.Value.Span));
        Assert.Equal("later", Encoding.UTF8.GetString((await all.GetAsync("e2"))!.Value.Span));
        Assert.Null(await all.GetAsync("e1")); // the origin's delete tombstone came along
        var keys = new List<string>();
        await foreach (var k in all.KeysAsync())
        {
            keys.Add(k);
        }

        keys.Sort(StringComparer.Ordinal);
        Assert.Equal(["e2", "own", "w1"], keys);

        var sources = (await all.GetStatusAsync()).StreamInfo.Config.Sources!;
        Assert.Equal("$KV.all.>", Assert.Single(sources.First().SubjectTransforms!).Dest);
    }
}

using CacheProvider.KeyValue;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace CacheProvider.KvDoctor.Tests;

/// <summary>A set of buckets, each with exactly one hygiene problem, plus clean ones.</summary>
internal static class Planted
{
    /// <summary>(bucket, finding code) the audit must report, and nothing else.</summary>
    public static readonly (string Bucket, string Code)[] Expected =
    [
        ("deletemap", "unbounded-delete-map"),
        ("tombstones", "permanent-tombstones"),
        ("mirror", "mirror-without-ttl"),
        ("hist", "history-with-ttl"),
        ("plain", "markers-off"),
    ];

    /// <summary>Thresholds small enough for a test: 50 interior deletes, 10 tombstones.</summary>
    public static readonly string[] Thresholds = ["--many-deletes", "50", "--tombstones", "10"];

    public static async Task PlantAsync(INatsConnection nats)
    {
        var kv = new KvContext(nats);

        // Markers off, no max_age, a first message pinning first_seq and 60 overwrites: 59 interior deletes.
        var deletemap = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "deletemap" });
        await deletemap.PutAsync("pin", "x"u8.ToArray());
        for (var i = 0; i < 60; i++)
        {
            await deletemap.PutAsync("k", "v"u8.ToArray());
        }

        // Markers on, but 20 plain deletes: 20 permanent tombstones.
        var tombstones = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "tombstones", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        for (var i = 0; i < 20; i++)
        {
            await tombstones.PutAsync($"s{i}", "v"u8.ToArray());
            await tombstones.DeleteAsync($"s{i}");
        }

        // History 5 with TTL'd writes.
        var hist = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "hist", History = 5, LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        await hist.PutAsync("h", "v1"u8.ToArray());
        // Our client refuses TTL'd writes to history > 1 buckets; other clients (and raw publishes) do not.
        var ack = await kv.JetStream.PublishAsync("$KV.hist.h", "v2"u8.ToArray(), headers: new NatsHeaders { { "Nats-TTL", "5m" } });
        ack.EnsureSuccess();

        // Clean: a cache-like bucket (values with TTL, removal by purge-with-TTL). A plain one with values only and
        // markers off: nothing expires there, so markers-off is informational.
        var clean = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "clean", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        await clean.PutAsync("a", "v"u8.ToArray(), TimeSpan.FromMinutes(5));
        await clean.PutAsync("b", "v"u8.ToArray(), TimeSpan.FromMinutes(5));
        await clean.PurgeAsync("b", TimeSpan.FromMinutes(5));
        var plain = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "plain" });
        await plain.PutAsync("a", "v"u8.ToArray());

        // A clean origin, and a mirror of it created the way today's tools do: without allow_msg_ttl.
        var origin = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "origin", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        await origin.PutAsync("keep", "forever"u8.ToArray());
        await CreatePlainMirrorAsync(kv.JetStream, "mirror", "origin");
    }

    public static async Task<StreamInfo> CreatePlainMirrorAsync(INatsJSContext js, string mirror, string origin) =>
        (await js.CreateStreamAsync(new StreamConfig
        {
            Name = "KV_" + mirror,
            MaxMsgsPerSubject = 1,
            Discard = StreamConfigDiscard.New,
            AllowRollupHdrs = true,
            DenyDelete = true,
            AllowDirect = true,
            MirrorDirect = true,
            DuplicateWindow = TimeSpan.FromMinutes(2),
            Mirror = new StreamSource { Name = "KV_" + origin },
        })).Info;
}

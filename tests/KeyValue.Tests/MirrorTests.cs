using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using CacheProvider.KeyValue;

namespace CacheProvider.KeyValue.Tests;

/// <summary>
/// KV mirrors against a real server: TTL-correct mirrors (allow_msg_ttl, no markers of their own), upgrading an
/// old-way mirror, reading and writing through a mirror-bound bucket, and direct gets on the origin that a mirror answers.
/// </summary>
public sealed class MirrorTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static ReadOnlyMemory<byte> Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static string Text(KvEntry? e) => e is null ? "<none>" : Encoding.UTF8.GetString(e.Value.Span);

    [Fact]
    public async Task Mirror_bucket_gets_msg_ttl_mirror_direct_and_no_subjects_or_markers_of_its_own()
    {
        await using var h = await KvHarness.StartAsync(output);
        await h.TtlBucketAsync("origin", TimeSpan.FromSeconds(1));
        var mirror = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "copy", Mirror = new KvMirror { Bucket = "origin" } });

        var status = await mirror.GetStatusAsync();
        Assert.True(status.IsMirror);
        Assert.Equal("origin", status.MirrorOrigin);
        Assert.Equal("origin", mirror.MirrorOrigin);
        Assert.True(status.AllowMsgTtl);
        Assert.Equal(TimeSpan.Zero, status.LimitMarkerTtl);
        var config = status.StreamInfo.Config;
        Assert.True(config.Subjects is null or { Count: 0 });
        Assert.True(config.MirrorDirect);
        Assert.Equal("KV_origin", config.Mirror?.Name);
    }

    [Fact]
    public async Task Marker_ttl_on_a_mirror_is_refused_by_the_client_and_by_the_server_with_10052()
    {
        await using var h = await KvHarness.StartAsync(output);
        await h.TtlBucketAsync("origin", TimeSpan.FromSeconds(1));

        var ex = await Assert.ThrowsAsync<ArgumentException>(async () => await h.Kv.CreateBucketAsync(new KvBucketConfig
        {
            Bucket = "copy",
            Mirror = new KvMirror { Bucket = "origin" },
            LimitMarkerTtl = TimeSpan.FromSeconds(1),
        }));
        Assert.Contains("mirror", ex.Message, StringComparison.OrdinalIgnoreCase);
        var missing = await Assert.ThrowsAsync<NatsJSApiException>(async () => await h.Kv.GetStatusAsync("copy"));
        Assert.Equal(JetStreamErrorCodes.StreamNotFound, missing.Error.ErrCode);

        // The client-side check mirrors a server rule: sent raw, the same configuration is refused.
        var raw = await Assert.ThrowsAsync<NatsJSApiException>(async () => await h.Kv.JetStream.CreateStreamAsync(new StreamConfig
        {
            Name = "KV_copy",
            Mirror = new StreamSource { Name = "KV_origin" },
            MaxMsgsPerSubject = 1,
            AllowMsgTTL = true,
            SubjectDeleteMarkerTTL = TimeSpan.FromSeconds(1),
        }));
        Assert.Equal(JetStreamErrorCodes.InvalidConfig, raw.Error.ErrCode);
        Assert.Contains("mirror", raw.Error.Description, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Old_way_mirror_upgraded_with_UpdateBucketAsync_drops_the_markers_it_kept()
    {
        await using var h = await KvHarness.StartAsync(output);
        var origin = await h.TtlBucketAsync("origin", TimeSpan.FromSeconds(1));
        var oldWay = new KvBucketConfig { Bucket = "copy", Mirror = new KvMirror { Bucket = "origin" }, AllowMsgTtl = false };
        var mirror = await h.Kv.CreateBucketAsync(oldWay);
        Assert.False((await mirror.GetStatusAsync()).AllowMsgTtl);

        await origin.PutAsync("keep", Bytes("k"));
        await origin.PutAsync("short", Bytes("s"), TimeSpan.FromSeconds(1));

        // Origin: the value expires, its marker expires one second later; the old-way mirror keeps the marker.
        await PollAsync(async () => (await origin.GetStatusAsync()).Values == 1, "origin back to its one permanent key");
        await WaitCaughtUpAsync(h, "origin", "copy");
        var before = await mirror.GetStatusAsync();
        Assert.Equal(2UL, before.Values);
        var kept = await mirror.GetLastAsync("short", KvReadMode.Direct);
        Assert.NotNull(kept);
        Assert.Equal(KvMarkerReason.Expired, kept.MarkerReason);

        var upgraded = await h.Kv.UpdateBucketAsync(oldWay with { AllowMsgTtl = null });
        Assert.True(upgraded.AllowsTtl);
        Assert.True((await upgraded.GetStatusAsync()).AllowMsgTtl);

        // The server applies TTLs to what the mirror already holds: the overdue marker goes.
        await PollAsync(async () => (await upgraded.GetStatusAsync()).Values == 1, "upgraded mirror drops the stale marker");
        Assert.Null(await upgraded.GetLastAsync("short"));
        Assert.Equal("k", Text(await upgraded.GetAsync("keep")));
    }

    [Fact]
    public async Task Mirror_made_by_other_tooling_without_allow_direct_is_read_from_its_leader()
    {
        await using var h = await KvHarness.StartAsync(output);
        var origin = await h.TtlBucketAsync("origin", TimeSpan.FromSeconds(1));
        var rev = await origin.PutAsync("a", Bytes("1"));
        await h.Kv.JetStream.CreateStreamAsync(new StreamConfig { Name = "KV_plain", Mirror = new StreamSource { Name = "KV_origin" }, MaxMsgsPerSubject = 1 });
        await WaitCaughtUpAsync(h, "origin", "plain");

        // Nobody answers direct gets on a stream without allow_direct (no responders): the bucket must not try.
        var mirror = await h.Kv.GetBucketAsync("plain");
        Assert.False(mirror.Info.Config.AllowDirect);
        var a = await mirror.GetAsync("a");
        Assert.Equal(("1", rev), (Text(a), a!.Revision));
        Assert.Null(await mirror.GetAsync("missing"));
    }

    [Fact]
    public async Task Mirror_bucket_serves_origin_keys_through_get_keys_and_watch_including_expiry_markers()
    {
        await using var h = await KvHarness.StartAsync(output);
        var origin = await h.TtlBucketAsync("origin", TimeSpan.FromSeconds(1));
        var mirror = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "copy", Mirror = new KvMirror { Bucket = "origin" } });
        var revA = await origin.PutAsync("a", Bytes("1"));
        await origin.PutAsync("b.c", Bytes("2"));
        await WaitCaughtUpAsync(h, "origin", "copy");

        var a = await mirror.GetAsync("a");
        Assert.NotNull(a);
        Assert.Equal("1", Text(a));
        Assert.Equal(revA, a.Revision); // a mirror keeps the origin's sequences
        Assert.Equal("copy", a.Bucket);
        Assert.Equal("2", Text(await mirror.GetAsync("b.c", KvReadMode.Leader)));
        Assert.Equal(["a", "b.c"], (await mirror.KeysAsync().ToListAsync()).Order().ToList());

        using var cts = new CancellationTokenSource(Patience);
        var seen = new List<KvEntry>();
        var watching = Task.Run(async () =>
        {
            await foreach (var e in mirror.WatchAsync(">", cancellationToken: cts.Token))
            {
                seen.Add(e);
                if (e.MarkerReason != KvMarkerReason.None)
                {
                    return;
                }
            }
        });
        await PollAsync(() => Task.FromResult(seen.Count >= 2), "watcher delivers the two existing keys");
        await origin.PutAsync("gone", Bytes("x"), TimeSpan.FromSeconds(1));
        await watching;

        Assert.Equal(["a", "b.c"], seen.Take(2).Select(e => e.Key).Order().ToList());
        var put = Assert.Single(seen, e => e.Key == "gone" && e.IsValue);
        Assert.Equal("x", Text(put));
        var marker = seen[^1];
        Assert.Equal("gone", marker.Key);
        Assert.Equal(KvMarkerReason.Expired, marker.MarkerReason);
        Assert.Equal(KvOperation.Purge, marker.Operation);
        Assert.Null(await mirror.GetAsync("gone"));
    }

    [Fact]
    public async Task Writes_through_a_mirror_bound_bucket_land_in_the_origin_and_leader_reads_see_them_at_once()
    {
        await using var h = await KvHarness.StartAsync(output);
        var origin = await h.TtlBucketAsync("origin", TimeSpan.FromSeconds(1));
        await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "copy", Mirror = new KvMirror { Bucket = "origin" } });
        var mirror = await h.Kv.GetBucketAsync("copy");
        Assert.Equal("origin", mirror.MirrorOrigin);

        var rev = await mirror.PutAsync("w", Bytes("via-mirror"), TimeSpan.FromSeconds(30));
        var inOrigin = await origin.GetAsync("w", KvReadMode.Leader);
        Assert.NotNull(inOrigin);
        Assert.Equal("via-mirror", Text(inOrigin));
        Assert.Equal(rev, inOrigin.Revision);
        Assert.Equal(TimeSpan.FromSeconds(30), inOrigin.Ttl);

        // Leader reads promise read-your-writes: for a mirror-bound bucket that is the origin, not the mirror, which
        // lags behind (on one server too briefly to catch, so a spy on the API subjects shows where reads go).
        await using var spy = await h.Connection.SubscribeCoreAsync<byte[]>("$JS.API.STREAM.MSG.GET.>");
        for (var i = 0; i < 20; i++)
        {
            var r = await mirror.PutAsync("w", Bytes("v" + i));
            var read = await mirror.GetAsync("w", KvReadMode.Leader);
            Assert.Equal(("v" + i, r), (Text(read), read!.Revision));
        }

        await h.Connection.PingAsync();
        var asked = new List<string>();
        while (spy.Msgs.TryRead(out var m))
        {
            asked.Add(m.Subject);
        }

        Assert.Equal(20, asked.Count);
        Assert.All(asked, s => Assert.Equal("$JS.API.STREAM.MSG.GET.KV_origin", s));

        // Create's compare-and-set over a tombstone, and CAS updates, resolve against the origin as well.
        await mirror.DeleteAsync("w");
        var created = await mirror.CreateAsync("w", Bytes("again"));
        await Assert.ThrowsAsync<KvKeyExistsException>(async () => await mirror.CreateAsync("w", Bytes("twice")));
        var updated = await mirror.UpdateAsync("w", Bytes("cas"), created);
        await Assert.ThrowsAsync<KvWrongRevisionException>(async () => await mirror.UpdateAsync("w", Bytes("stale"), created));

        await WaitCaughtUpAsync(h, "origin", "copy");
        var direct = await mirror.GetAsync("w");
        Assert.Equal(("cas", updated), (Text(direct), direct!.Revision));
        Assert.Equal("cas", Text(await origin.GetAsync("w")));
    }

    [Fact]
    public async Task Direct_gets_on_the_origin_answered_by_its_mirror_are_detected_and_reread_from_the_leader()
    {
        await using var h = await KvHarness.StartAsync(output);
        var origin = await h.TtlBucketAsync("origin", TimeSpan.FromSeconds(1));
        Assert.True(origin.Info.Config.AllowDirect);
        var mirror = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "copy", Mirror = new KvMirror { Bucket = "origin" } });
        Assert.True(mirror.Info.Config.MirrorDirect);
        await origin.PutAsync("hot", Bytes("v-init"));
        await WaitCaughtUpAsync(h, "origin", "copy");

        // The situation exists: raw direct gets addressed to the ORIGIN are answered by the mirror too.
        var answeredBy = new Dictionary<string, int>();
        var originStream = await h.Kv.JetStream.GetStreamAsync("KV_origin");
        for (var i = 0; i < 400 && answeredBy.Count < 2; i++)
        {
            var m = await originStream.GetDirectAsync<byte[]>(new StreamMsgGetRequest { LastBySubj = "$KV.origin.hot" });
            var stream = m.Headers is { } hd && hd.TryGetValue("Nats-Stream", out var named) ? named.ToString() : "<404>";
            answeredBy[stream] = answeredBy.GetValueOrDefault(stream) + 1;
        }

        output.WriteLine("direct gets on KV_origin answered by: " + string.Join(", ", answeredBy.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.True(answeredBy.ContainsKey("KV_copy"), "the mirror never answered a direct get addressed to the origin");

        // Right after each write the origin's GetAsync (direct by default) must return that write, whoever answers:
        // a mirror's (possibly stale) copy is recognised by its Nats-Stream header and re-read from the leader.
        for (var i = 0; i < 300; i++)
        {
            var rev = await origin.PutAsync("hot", Bytes("v" + i));
            var e = await origin.GetAsync("hot");
            Assert.Equal(("v" + i, rev), (Text(e), e!.Revision));
        }

        // Keys the mirror has not received yet: its 404 (which names no stream) must not hide the origin's value.
        // The bucket has seen the mirror answer above (0.75^300 odds otherwise), so it confirms 404s with the leader.
        for (var i = 0; i < 300; i++)
        {
            var fresh = "fresh" + i;
            var rev = await origin.PutAsync(fresh, Bytes("f" + i));
            var f = await origin.GetAsync(fresh);
            Assert.Equal(("f" + i, rev), (Text(f), f?.Revision ?? 0));
        }

        Assert.Null(await origin.GetAsync("never-written"));
    }

    [Fact]
    public async Task Reply_from_another_stream_is_reread_from_the_leader_and_later_404s_are_confirmed_there()
    {
        // Deterministic version of the race above: a scripted responder plays the stream, a mirror and the leader.
        // It serves the API of a JetStream domain this server does not have, so the real JetStream stays out of it.
        await using var h = await KvHarness.StartAsync(output);
        await using var fake = await FakeStreamResponder.StartAsync(h);
        var bucket = await new KvContext(h.Connection, new KvContextOptions { Domain = FakeStreamResponder.Domain }).GetBucketAsync("fake");

        // 1. A plain 404 before any foreign answer: trusted, no leader read.
        fake.Direct.Enqueue(null);
        Assert.Null(await bucket.GetAsync("k"));
        Assert.Equal(0, fake.LeaderReads);

        // 2. The mirror answers with its stale copy: detected by Nats-Stream, the leader's value is returned.
        fake.Direct.Enqueue(("KV_mirror", "stale", 1UL));
        fake.Leader.Enqueue(("fresh", 2UL));
        var e = await bucket.GetAsync("k");
        Assert.Equal(("fresh", 2UL), (Text(e), e!.Revision));
        Assert.Equal(1, fake.LeaderReads);

        // 3. From now on a 404 may be a lagging mirror's: the leader confirms it (and here knows better).
        fake.Direct.Enqueue(null);
        fake.Leader.Enqueue(("fresh", 2UL));
        Assert.Equal("fresh", Text(await bucket.GetAsync("k")));
        Assert.Equal(2, fake.LeaderReads);

        // 4. An answer from our own stream is used as it is.
        fake.Direct.Enqueue(("KV_fake", "own", 3UL));
        var own = await bucket.GetAsync("k");
        Assert.Equal(("own", 3UL), (Text(own), own!.Revision));
        Assert.Equal(2, fake.LeaderReads);
    }

    [Fact]
    public async Task After_all_ttls_pass_a_ttl_mirror_equals_its_origin_while_an_old_way_mirror_keeps_markers_and_tombstones()
    {
        await using var h = await KvHarness.StartAsync(output);
        var origin = await h.TtlBucketAsync("origin", TimeSpan.FromSeconds(1));
        var ttlMirror = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "ttlcopy", Mirror = new KvMirror { Bucket = "origin" } });
        var oldMirror = await h.Kv.CreateBucketAsync(new KvBucketConfig { Bucket = "oldcopy", Mirror = new KvMirror { Bucket = "origin" }, AllowMsgTtl = false });
        Assert.True(ttlMirror.AllowsTtl);
        Assert.False(oldMirror.AllowsTtl);

        // A permanent key first pins first_seq, so every later removal shows up in num_deleted.
        await origin.PutAsync("keep", Bytes("forever"));
        for (var i = 0; i < 4; i++)
        {
            await origin.PutAsync($"ttl.{i}", Bytes("t" + i), TimeSpan.FromSeconds(1 + (i % 2))); // expire into markers
        }

        for (var i = 0; i < 3; i++)
        {
            await origin.PutAsync($"purged.{i}", Bytes("p" + i));
            await origin.PurgeAsync($"purged.{i}", tombstoneTtl: TimeSpan.FromSeconds(1)); // self-expiring tombstone
        }

        // Origin: values expire (markers, 1 s), markers and tombstones expire: only "keep" is left.
        await PollAsync(async () => (await origin.GetStatusAsync()).Values == 1, "origin reduced to its permanent key");
        await WaitCaughtUpAsync(h, "origin", "ttlcopy");
        await WaitCaughtUpAsync(h, "origin", "oldcopy");

        KvBucketStatus o = null!, m = null!;
        await PollAsync(async () =>
        {
            o = await origin.GetStatusAsync();
            m = await ttlMirror.GetStatusAsync();
            return (o.Values, o.Bytes, o.NumDeleted) == (m.Values, m.Bytes, m.NumDeleted);
        }, "TTL mirror identical to origin");
        output.WriteLine($"origin: msgs={o.Values} bytes={o.Bytes} deleted={o.NumDeleted}; ttl mirror: msgs={m.Values} bytes={m.Bytes} deleted={m.NumDeleted}");
        Assert.Equal(1UL, m.Values);
        Assert.True(o.NumDeleted > 0, "the permanent key should pin first_seq so removals count as interior deletes");
        Assert.Equal(["keep"], await ttlMirror.KeysAsync().ToListAsync());

        // The old-way mirror got the same messages but never expires them: one marker or tombstone per key stays.
        await Task.Delay(TimeSpan.FromSeconds(2.5)); // well past every TTL and marker TTL
        var old = await oldMirror.GetStatusAsync();
        output.WriteLine($"old-way mirror: msgs={old.Values} bytes={old.Bytes} deleted={old.NumDeleted}");
        Assert.True(old.Values > o.Values, $"old-way mirror holds {old.Values} messages, origin {o.Values}");
        Assert.Equal(1UL + 4 + 3, old.Values);
        for (var i = 0; i < 4; i++)
        {
            var marker = await oldMirror.GetLastAsync($"ttl.{i}");
            Assert.Equal(KvMarkerReason.Expired, marker?.MarkerReason);
            Assert.Null(await ttlMirror.GetLastAsync($"ttl.{i}"));
        }

        for (var i = 0; i < 3; i++)
        {
            var tombstone = await oldMirror.GetLastAsync($"purged.{i}");
            Assert.Equal((KvOperation.Purge, KvMarkerReason.None), (tombstone?.Operation, tombstone?.MarkerReason));
            Assert.Null(await ttlMirror.GetLastAsync($"purged.{i}"));
        }

        Assert.Equal(["keep"], await oldMirror.KeysAsync().ToListAsync()); // our keys() skips markers either way
    }

    private static async Task WaitCaughtUpAsync(KvHarness h, string origin, string mirror)
    {
        var last = (await h.Kv.GetStatusAsync(origin)).StreamInfo.State.LastSeq;
        await PollAsync(async () =>
        {
            var info = (await h.Kv.GetStatusAsync(mirror)).StreamInfo;
            return info.State.LastSeq >= last && info.Mirror is { Lag: 0 };
        }, $"mirror {mirror} caught up with {origin} (last seq {last})");
    }

    private static async Task PollAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out after {Patience.TotalSeconds} s waiting for: {what}");
            await Task.Delay(100);
        }
    }

    /// <summary>
    /// Answers <c>STREAM.INFO</c>, <c>DIRECT.GET</c> and <c>STREAM.MSG.GET</c> for <c>KV_fake</c> in domain
    /// <see cref="Domain"/> from scripts. 404 status replies are written on a raw socket because a status line
    /// cannot be set through the client's headers.
    /// </summary>
    private sealed class FakeStreamResponder : IAsyncDisposable
    {
        public const string Domain = "fake";
        private const string Api = "$JS." + Domain + ".API";
        private readonly INatsSub<byte[]> _info;
        private readonly INatsSub<byte[]> _direct;
        private readonly INatsSub<byte[]> _leader;
        private readonly TcpClient _raw;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _leaderReads;

        private FakeStreamResponder(KvHarness h, INatsSub<byte[]> info, INatsSub<byte[]> direct, INatsSub<byte[]> leader, TcpClient raw)
        {
            _info = info;
            _direct = direct;
            _leader = leader;
            _raw = raw;
            _loop = Task.WhenAll(RunInfoAsync(h.Connection), RunDirectAsync(h.Connection), RunLeaderAsync(h.Connection));
        }

        public Queue<(string Stream, string Value, ulong Seq)?> Direct { get; } = new();

        public Queue<(string Value, ulong Seq)> Leader { get; } = new();

        public int LeaderReads => Volatile.Read(ref _leaderReads);

        public static async Task<FakeStreamResponder> StartAsync(KvHarness h)
        {
            var info = await h.Connection.SubscribeCoreAsync<byte[]>(Api + ".STREAM.INFO.KV_fake");
            var direct = await h.Connection.SubscribeCoreAsync<byte[]>(Api + ".DIRECT.GET.KV_fake");
            var leader = await h.Connection.SubscribeCoreAsync<byte[]>(Api + ".STREAM.MSG.GET.KV_fake");
            var raw = new TcpClient();
            await raw.ConnectAsync("127.0.0.1", h.Server.Port);
            await raw.GetStream().WriteAsync("CONNECT {\"verbose\":false,\"headers\":true}\r\n"u8.ToArray());
            await h.Connection.PingAsync();
            return new FakeStreamResponder(h, info, direct, leader, raw);
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _info.DisposeAsync();
            await _direct.DisposeAsync();
            await _leader.DisposeAsync();
            try
            {
                await _loop;
            }
            catch (Exception ex) when (ex is OperationCanceledException or ChannelClosedException)
            {
            }

            _raw.Dispose();
            _stop.Dispose();
        }

        private async Task RunInfoAsync(NatsConnection nc)
        {
            while (true)
            {
                var req = await _info.Msgs.ReadAsync(_stop.Token);
                var json = """{"type":"io.nats.jetstream.api.v1.stream_info_response","config":{"name":"KV_fake","subjects":["$KV.fake.>"],"max_msgs_per_subject":1,"allow_direct":true,"storage":"file","num_replicas":1},"state":{"messages":0},"created":"2025-01-01T00:00:00Z"}""";
                await nc.PublishAsync(req.ReplyTo!, Encoding.UTF8.GetBytes(json), cancellationToken: _stop.Token);
            }
        }

        private async Task RunDirectAsync(NatsConnection nc)
        {
            while (true)
            {
                var req = await _direct.Msgs.ReadAsync(_stop.Token);
                var step = Direct.Dequeue();
                if (step is not { } s)
                {
                    var frame = $"HPUB {req.ReplyTo} 34 34\r\nNATS/1.0 404 Message Not Found\r\n\r\n\r\n";
                    await _raw.GetStream().WriteAsync(Encoding.ASCII.GetBytes(frame), _stop.Token);
                    continue;
                }

                var headers = new NatsHeaders
                {
                    { "Nats-Stream", s.Stream },
                    { "Nats-Subject", System.Text.Json.JsonDocument.Parse(req.Data!).RootElement.GetProperty("last_by_subj").GetString()! },
                    { "Nats-Sequence", s.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    { "Nats-Time-Stamp", DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", System.Globalization.CultureInfo.InvariantCulture) },
                };
                await nc.PublishAsync(req.ReplyTo!, Encoding.UTF8.GetBytes(s.Value), headers, cancellationToken: _stop.Token);
            }
        }

        private async Task RunLeaderAsync(NatsConnection nc)
        {
            while (true)
            {
                var req = await _leader.Msgs.ReadAsync(_stop.Token);
                Interlocked.Increment(ref _leaderReads);
                var (value, seq) = Leader.Dequeue();
                var data = Convert.ToBase64String(Encoding.UTF8.GetBytes(value));
                var json = $$$"""{"type":"io.nats.jetstream.api.v1.stream_msg_get_response","message":{"subject":"$KV.fake.k","seq":{{{seq}}},"data":"{{{data}}}","time":"{{{DateTimeOffset.UtcNow:O}}}"}}""";
                await nc.PublishAsync(req.ReplyTo!, Encoding.UTF8.GetBytes(json), cancellationToken: _stop.Token);
            }
        }
    }
}

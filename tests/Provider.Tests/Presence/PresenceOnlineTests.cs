using CacheProvider.Internal;
using System.Text;
using CacheProvider.KeyValue;
using CacheProvider.Presence;
using NATS.Client.Core;

namespace CacheProvider.Tests.Presence;

public sealed class PresenceOnlineTests(ITestOutputHelper output)
{
    // Markers and leave tombstones stay long enough to be read while they are the keys' latest revision.
    private static PresenceOptions Options() => new() { Ttl = TimeSpan.FromSeconds(30), LimitMarkerTtl = TimeSpan.FromSeconds(30) };

    /// <summary>The former way (key listing, then one direct get per key) as the reference result.</summary>
    private static async Task<List<(string Member, ulong Revision, DateTimeOffset ExpiresAt, string Info)>> OneReadPerKeyAsync(INatsConnection connection, string group)
    {
        var bucket = await new KvContext(connection).GetBucketAsync(Options().Bucket);
        var result = new List<(string, ulong, DateTimeOffset, string)>();
        await foreach (var key in bucket.KeysAsync(PatternKeyCodec.Encode(group, allowDots: false, nameof(group)) + ".*"))
        {
            if (await bucket.GetAsync(key) is { } entry)
            {
                result.Add((PatternKeyCodec.Decode(key[(key.LastIndexOf('.') + 1)..]), entry.Revision, entry.ExpiresAt ?? default, System.Text.Encoding.UTF8.GetString(entry.Value.Span)));
            }
        }

        return result.OrderBy(m => m.Item1, StringComparer.Ordinal).ToList();
    }

    private static List<(string Member, ulong Revision, DateTimeOffset ExpiresAt, string Info)> Shape(IReadOnlyList<PresenceMember> members) =>
        members.Select(m => (m.Member, Revision: 0UL, m.ExpiresAt ?? default, System.Text.Encoding.UTF8.GetString(m.Info.Span))).OrderBy(m => m.Member, StringComparer.Ordinal).ToList();

    [Fact]
    public async Task GetOnline_lists_members_with_values_and_omits_removed_expired_and_marker_only_keys()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var tracker = new PresenceTracker(connection, Options());
        await tracker.HeartbeatAsync("lobby", "alice", "a"u8.ToArray());
        await tracker.HeartbeatAsync("lobby", "bob ü", "b"u8.ToArray());
        await tracker.HeartbeatAsync("lobby", "carol");
        await tracker.HeartbeatAsync("lobby", "gone", ttl: TimeSpan.FromSeconds(1));
        await tracker.HeartbeatAsync("lobby.other", "x");
        await tracker.HeartbeatAsync("other", "y");
        await tracker.LeaveAsync("lobby", "carol");

        // Wait until the server replaced "gone" by its expiry marker: that key then holds only the marker.
        var bucket = await new KvContext(connection).GetBucketAsync(Options().Bucket);
        var goneKey = PatternKeyCodec.Encode("lobby", false, "g") + "." + PatternKeyCodec.Encode("gone", false, "m");
        var until = DateTime.UtcNow.AddSeconds(15);
        while ((await bucket.GetLastAsync(goneKey, KvReadMode.Leader))?.MarkerReason is not KvMarkerReason.Expired)
        {
            Assert.True(DateTime.UtcNow < until, "no expiry marker for 'gone'");
            await Task.Delay(100);
        }

        var online = await tracker.GetOnlineAsync("lobby");
        Assert.Equal(["alice", "bob ü"], online.Select(m => m.Member).Order(StringComparer.Ordinal));
        var alice = online.Single(m => m.Member == "alice");
        Assert.Equal("lobby", alice.Group);
        Assert.Equal("a"u8.ToArray(), alice.Info.ToArray());
        Assert.True(alice.ExpiresAt > DateTimeOffset.UtcNow.AddSeconds(20));
        Assert.True(alice.LastSeen > DateTimeOffset.UtcNow.AddSeconds(-20));

        // Identical to listing the keys and reading each one.
        var reference = await OneReadPerKeyAsync(connection, "lobby");
        Assert.Equal(reference.Select(r => r with { Revision = 0 }), Shape(online));
    }

    [Fact]
    public async Task GetOnline_treats_values_past_their_deadline_as_absent()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var tracker = new PresenceTracker(connection, Options());
        await tracker.HeartbeatAsync("lobby", "alice", ttl: TimeSpan.FromSeconds(5));
        await tracker.HeartbeatAsync("lobby", "bob", ttl: TimeSpan.FromSeconds(120));

        // A reader whose clock is a minute ahead: alice's deadline has passed for it, although the server still holds her value.
        await using var ahead = new PresenceTracker(connection, Options(), timeProvider: new ShiftedTime(TimeSpan.FromMinutes(1)));
        Assert.Equal(["bob"], (await ahead.GetOnlineAsync("lobby")).Select(m => m.Member));
        Assert.Equal(2, (await tracker.GetOnlineAsync("lobby")).Count);
    }

    [Fact]
    public async Task GetOnline_of_a_group_without_members_is_empty()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var tracker = new PresenceTracker(connection, Options());
        Assert.Empty(await tracker.GetOnlineAsync("nobody-ever"));

        await tracker.HeartbeatAsync("left", "m");
        await tracker.LeaveAsync("left", "m");
        await tracker.HeartbeatAsync("elsewhere", "m");
        Assert.Empty(await tracker.GetOnlineAsync("left"));
        Assert.Empty(await tracker.GetOnlineAsync("nobody-ever"));
    }

    [Fact]
    public async Task GetOnline_reads_groups_larger_than_one_server_batch()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        await using var tracker = new PresenceTracker(connection, Options());

        // The server answers at most 1024 messages per multi_last batch; keys that only hold a tombstone count too.
        const int members = 1500;
        var beats = new Task<ulong>[members];
        for (var i = 0; i < members; i++)
        {
            beats[i] = tracker.HeartbeatAsync("hall", $"m{i}", "i"u8.ToArray());
        }

        await Task.WhenAll(beats);
        for (var i = 0; i < members; i += 10)
        {
            await tracker.LeaveAsync("hall", $"m{i}");
        }

        // Whether this server refuses the single batch, so the listing-then-batches path is the one under test.
        output.WriteLine(await OneBatchAsync(connection, "KV_" + Options().Bucket, "$KV." + Options().Bucket + ".hall.*"));

        var online = await tracker.GetOnlineAsync("hall");
        Assert.Equal(members - (members / 10), online.Count);
        Assert.Equal(online.Count, online.Select(m => m.Member).Distinct().Count());
        Assert.DoesNotContain(online, m => m.Member == "m10");
        Assert.Equal((await OneReadPerKeyAsync(connection, "hall")).Select(r => r with { Revision = 0 }), Shape(online));
    }

    /// <summary>One direct multi_last batch get over plain NATS.Net: how many messages it returned, or how the server refused it.</summary>
    private static async Task<string> OneBatchAsync(NatsConnection connection, string stream, string subjects)
    {
        var inbox = connection.NewInbox();
        await using var replies = await connection.SubscribeCoreAsync<byte[]>(inbox);
        await connection.PublishAsync($"$JS.API.DIRECT.GET.{stream}", Encoding.UTF8.GetBytes($"{{\"multi_last\":[\"{subjects}\"]}}"), replyTo: inbox);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var count = 0;
        await foreach (var reply in replies.Msgs.ReadAllAsync(timeout.Token))
        {
            var status = reply.Headers?.Code ?? 0;
            if (status is 204 or 404)
            {
                break; // end of batch
            }

            if (status >= 400)
            {
                return $"one batch refused: {status} {reply.Headers!.MessageText}";
            }

            count++;
        }

        return $"one batch returned {count} messages";
    }

    private sealed class ShiftedTime(TimeSpan offset) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
    }
}

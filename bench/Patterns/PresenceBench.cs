using System.Diagnostics;
using System.Globalization;
using CacheProvider.KeyValue;
using CacheProvider.Presence;
using NATS.Client.Core;

namespace CacheProvider.Bench.Patterns;

/// <summary>
/// <see cref="PresenceTracker.GetOnlineAsync"/> for one group of many members (ours: one multi_last batch get) against
/// the former way (peer: list the keys with an ordered consumer, then one direct get per key, all in flight at once).
/// </summary>
internal static class PresenceBench
{
    public static async Task GetOnlineAsync(string url, int members, int callsPerRun)
    {
        await using var connection = new NatsConnection(NatsOpts.Default with { Url = url, Name = "presence" });
        await connection.ConnectAsync().ConfigureAwait(false);
        var options = new PresenceOptions { Ttl = TimeSpan.FromMinutes(5) };
        await using var tracker = new PresenceTracker(connection, options);
        var group = $"bench{members}";
        var beats = new List<Task<ulong>>(members);
        for (var i = 0; i < members; i++)
        {
            beats.Add(tracker.HeartbeatAsync(group, $"member-{i}", "info"u8.ToArray()));
        }

        await Task.WhenAll(beats).ConfigureAwait(false);
        var bucket = await new KvContext(connection).GetBucketAsync(options.Bucket).ConfigureAwait(false);

        async Task<double> Ours()
        {
            var start = Stopwatch.GetTimestamp();
            for (var c = 0; c < callsPerRun; c++)
            {
                Check((await tracker.GetOnlineAsync(group).ConfigureAwait(false)).Count, members);
            }

            return Stopwatch.GetElapsedTime(start).TotalMilliseconds / callsPerRun;
        }

        async Task<double> Peer()
        {
            var start = Stopwatch.GetTimestamp();
            for (var c = 0; c < callsPerRun; c++)
            {
                var reads = new List<Task<KvEntry?>>();
                await foreach (var key in bucket.KeysAsync(group + ".*").ConfigureAwait(false))
                {
                    reads.Add(bucket.GetAsync(key, KvReadMode.Direct).AsTask());
                }

                var entries = await Task.WhenAll(reads).ConfigureAwait(false);
                Check(entries.Count(e => e is not null), members);
            }

            return Stopwatch.GetElapsedTime(start).TotalMilliseconds / callsPerRun;
        }

        // Warm up both, then 5 repetitions alternating which goes first; the median of each side.
        await Ours().ConfigureAwait(false);
        await Peer().ConfigureAwait(false);
        var ours = new List<double>();
        var peer = new List<double>();
        for (var rep = 0; rep < 5; rep++)
        {
            if (rep % 2 == 0)
            {
                ours.Add(await Ours().ConfigureAwait(false));
                peer.Add(await Peer().ConfigureAwait(false));
            }
            else
            {
                peer.Add(await Peer().ConfigureAwait(false));
                ours.Add(await Ours().ConfigureAwait(false));
            }
        }

        ours.Sort();
        peer.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"presence_get_online_{members}_members_ms (lower is better): ours={ours[2]:F2} peer={peer[2]:F2} ratio={ours[2] / peer[2]:F2}"));
    }

    private static void Check(int actual, int expected)
    {
        if (actual != expected)
        {
            throw new InvalidOperationException($"GetOnline saw {actual} members, expected {expected}");
        }
    }
}

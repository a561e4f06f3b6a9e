using CacheProvider.Bench.Reporting;
using CacheProvider.Clustering.Measure;
using CacheProvider.Samples.Cluster;
using CacheProvider.Testing;
using Microsoft.Extensions.Hosting;

// Issue #26 "Measure": NATS clustering + grain directory (ours) vs Orleans' Redis clustering + Redis grain directory
// 10.4.2 on a local Redis 8 (peer), one run:
//   ./build.sh bench clustering [--reps R] [--seconds S] [--nats-reconnect-ms N]   (R cluster repetitions per side,
//   default 3; S seconds per directory throughput figure per repetition, default 2; N: the silos' NATS.Net reconnect
//   wait, default NATS.Net's own; about 8 minutes at the defaults)
// Cluster figures come from 3 silo processes of samples/Cluster (silo mode) per repetition and side, with Orleans'
// default ClusterMembershipOptions on both; their grain storage and reminders are on NATS either way, so only
// membership and the grain directory differ. Every line is `name: ours=… peer=… ratio=…` (ratio = ours/peer; for
// times below 1 ours is faster, for ops/s above 1) with the spread over repetitions. Failures print `error=…`.
var reps = 3;
var seconds = 2.0;
TimeSpan? natsReconnect = null; // --nats-reconnect-ms N: every silo's NATS.Net reconnect wait (default: NATS.Net's 2 s doubling to 5 s)
for (var i = 0; i < args.Length - 1; i++)
{
    if (args[i] == "--reps" && int.TryParse(args[i + 1], out var r) && r > 0)
    {
        reps = r;
    }
    else if (args[i] == "--nats-reconnect-ms" && int.TryParse(args[i + 1], out var ms) && ms > 0)
    {
        natsReconnect = TimeSpan.FromMilliseconds(ms);
    }
    else if (args[i] == "--seconds" && double.TryParse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0)
    {
        seconds = s;
    }
}

Console.WriteLine($"# Clustering.Measure: 3 silo processes per repetition and side, {reps} repetitions (alternating which side goes first), default ClusterMembershipOptions, silos' NATS reconnect wait {(natsReconnect is { } w ? w.TotalMilliseconds + " ms" : "NATS.Net's default (2 s doubling to 5 s)")}; directory: {DirectoryThroughput.InFlight} in flight, {seconds:0.#} s per figure per repetition; ratio = ours/peer");
NatsServer? nats = null;
RedisServer? redis = null;
IHost? directorySilo = null;
try
{
    nats = await NatsServer.StartAsync();
    try
    {
        redis = await RedisServer.StartAsync(persistent: true); // a restart keeps the membership table, as NATS keeps its store
    }
    catch (Exception ex)
    {
        Console.WriteLine($"redis_server: error={Report.Describe(ex)}");
    }

    // Grain directory throughput first (one in-process silo, both directories).
    try
    {
        directorySilo = await DirectoryThroughput.StartSiloAsync(nats.Url, redis?.Configuration);
    }
    catch (Exception ex)
    {
        Console.WriteLine($"# directory silo: {Report.Describe(ex)}");
    }

    var directory = await DirectoryThroughput.MeasureAsync(directorySilo, TimeSpan.FromSeconds(seconds), reps);
    await Hosts.StopAsync(directorySilo, "directory silo");
    directorySilo = null;
    Samples.Print($"grain_directory_register_ops_per_s_{DirectoryThroughput.InFlight}_in_flight", directory[0].Register, directory[1].Register, "F0", "(goal ≥ 1.0)");
    Samples.Print($"grain_directory_lookup_ops_per_s_{DirectoryThroughput.InFlight}_in_flight", directory[0].Lookup, directory[1].Lookup, "F0", "(goal ≥ 1.0)");

    // Cluster figures: 3 silo processes per repetition and side.
    var ours = new ClusterFigures();
    var peer = new ClusterFigures();
    for (var rep = 0; rep < reps; rep++)
    {
        var sides = new List<Func<Task>>
        {
            () => new ClusterRun(nats.Url, ClusteringProvider.Nats, null, $"measure-nats-{rep}", nats.StopAsync, nats.StartAgainAsync, natsReconnect).MeasureAsync(ours),
        };
        if (redis is not null)
        {
            var server = redis;
            sides.Add(() => new ClusterRun(nats.Url, ClusteringProvider.Redis, server.Configuration, $"measure-redis-{rep}", server.StopAsync, server.StartAgainAsync, natsReconnect).MeasureAsync(peer));
        }

        if (rep % 2 == 1)
        {
            sides.Reverse();
        }

        foreach (var side in sides)
        {
            await side();
        }

        Console.Error.WriteLine($"# repetition {rep + 1}/{reps} done");
    }

    if (redis is null)
    {
        const string none = "no redis-server";
        peer.JoinSeconds.Fail(none);
        peer.KillToDeadSeconds.Fail(none);
        peer.FirstCallMilliseconds.Fail(none);
        peer.OutageRecoverySeconds.Fail(none);
    }

    Samples.Print("silo_join_start_to_active_s", ours.JoinSeconds, peer.JoinSeconds, "F2", "(goal ≤ 1.0)");
    Samples.Print("kill9_to_dead_in_every_other_view_s", ours.KillToDeadSeconds, peer.KillToDeadSeconds, "F2", "(goal ≤ 1.0)");
    Samples.Print($"first_call_new_grain_3_silos_p50_ms", ours.FirstCallMilliseconds, peer.FirstCallMilliseconds, "F2", $"({ClusterRun.FirstCalls} calls per repetition; goal ≤ 1.0)");
    Samples.Print($"first_call_new_grain_3_silos_p99_ms", ours.FirstCallMilliseconds, peer.FirstCallMilliseconds, "F2", "(goal ≤ 1.0)", s => s.Percentile(0.99));
    Samples.Print($"new_grain_calls_succeed_after_{ClusterRun.Outage.TotalSeconds:0}s_server_outage_s", ours.OutageRecoverySeconds, peer.OutageRecoverySeconds, "F2",
        "(from the server's restart to the first successful call to a new grain; ours: the nats-server that also holds storage and reminders, peer: redis-server)");
}
catch (Exception ex)
{
    Console.WriteLine($"setup: error={Report.Describe(ex)}");
}
finally
{
    await Hosts.StopAsync(directorySilo, "directory silo");
    if (redis is not null)
    {
        await redis.DisposeAsync();
    }

    if (nats is not null)
    {
        await nats.DisposeAsync();
    }
}

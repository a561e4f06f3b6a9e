using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace CacheProvider.Nats.Tests.Fuzz;

/// <summary>
/// Client-level fuzzing: a real <see cref="NatsConnection"/> with a subscription against a hostile fake server
/// that sends valid traffic and then garbled frames on every connection. Not a test of NATS semantics; it
/// checks that garbage only ever costs a reconnect.
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(FuzzCollection.Name)]
public sealed class ClientFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Garbled_server_frames_cost_a_reconnect_and_never_crash_the_client()
    {
        // Rounds scale with the requested run: 30 in CI, up to 200 for the long run.
        var rounds = (int)Math.Clamp(FuzzSettings.Frames / 5000, 30, 200);
        var seed = FuzzSettings.Seed;
        var unobserved = new ConcurrentQueue<Exception>();

        // The handler below is process-wide, so the window it listens in must hold only this test. The collection
        // runs with DisableParallelization (xunit runs it after the parallel collections, with nothing alongside),
        // and collecting here reports earlier tests' faulted, already unreachable tasks before the window opens.
        // Every fault inside the window counts: filtering on client stack frames would miss faults set on a task
        // completion source (never thrown, so stackless) and faults of BCL tasks the client abandoned, which are
        // exactly the leaks this check is for.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        EventHandler<UnobservedTaskExceptionEventArgs> onUnobserved = (_, e) => unobserved.Enqueue(e.Exception);
        TaskScheduler.UnobservedTaskException += onUnobserved;
        try
        {
            await using var server = new HostileServer((round, sid) => BuildRound(seed, round, sid));
            var disconnects = new ConcurrentQueue<(int Round, Exception? Error)>();
            var connection = new NatsConnection(new NatsOptions
            {
                Url = $"nats://127.0.0.1:{server.Port}",
                ConnectTimeout = TimeSpan.FromSeconds(5),
                ReconnectWait = TimeSpan.FromMilliseconds(10),
                ReconnectJitter = TimeSpan.FromMilliseconds(10),
                MaxReconnectWait = TimeSpan.FromMilliseconds(100),
            });
            connection.Disconnected += (_, e) => disconnects.Enqueue((server.Connections - 1, e.Error));

            var clock = Stopwatch.StartNew();
            await connection.ConnectAsync();
            var sub = await connection.SubscribeAsync("fuzz.>");
            var markers = new ConcurrentDictionary<int, bool>();
            var reading = Task.Run(async () =>
            {
                await foreach (var msg in sub.ReadAllAsync())
                {
                    if (msg.Subject == "fuzz.marker")
                    {
                        markers[int.Parse(Encoding.ASCII.GetString(msg.Data.Span), CultureInfo.InvariantCulture)] = true;
                    }
                }
            });

            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30 + rounds)))
            {
                while (server.RoundsSent < rounds || server.ClientDrops + server.ServerCuts < rounds)
                {
                    Assert.False(timeout.IsCancellationRequested, $"only {server.RoundsSent} of {rounds} rounds after {clock.Elapsed}: the client stopped reconnecting (run seed {seed}); faults: {string.Join("; ", server.Faults)}");
                    Assert.False(reading.IsCompleted, $"the subscription ended: {reading.Exception?.InnerException}");
                    await Task.Delay(20, CancellationToken.None);
                }
            }

            var disposing = clock.Elapsed;
            await connection.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
            var disposeTime = clock.Elapsed - disposing;
            await reading.WaitAsync(TimeSpan.FromSeconds(5));

            var summary = $"client fuzz: seed {seed}, {rounds} rounds, {server.Connections} connections, {server.ClientDrops} dropped by the client, " +
                          $"{server.ServerCuts} cut by the server, {markers.Count} rounds delivered, {disconnects.Count} disconnects, {clock.Elapsed.TotalSeconds:0.0} s, dispose {disposeTime.TotalMilliseconds:0} ms";
            output.WriteLine(summary);
            Console.WriteLine(summary);

            Assert.Empty(server.Faults);
            var foreign = disconnects.Where(d => d.Error is not (null or NatsException)).ToList();
            Assert.True(foreign.Count == 0, "non-NATS errors escaped the read loop:\n" + string.Join("\n", foreign.Select(d => $"round {d.Round} (seed {RoundSeed(seed, d.Round)}): {d.Error}")));
            Assert.Contains(disconnects, d => d.Error is NatsProtocolException);
            Assert.True(connection.Reconnects >= rounds - 1, $"{connection.Reconnects} reconnects for {rounds} rounds");
            Assert.True(server.ClientDrops > rounds / 2, $"the client detected garbage in only {server.ClientDrops} of {rounds} rounds");

            // Every round starts with a valid marker message before the garbage: all of them must have arrived,
            // which also shows the subscription was restored on each reconnect.
            var missing = Enumerable.Range(0, rounds).Where(r => !markers.ContainsKey(r)).ToList();
            Assert.True(missing.Count == 0, $"marker messages of rounds {string.Join(", ", missing)} were not delivered");
        }
        finally
        {
            // Tasks that faulted without anyone observing them surface at finalization.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            TaskScheduler.UnobservedTaskException -= onUnobserved;
        }

        Assert.True(unobserved.IsEmpty, "unobserved task exceptions:\n" + string.Join("\n", unobserved));
    }

    private static int RoundSeed(int seed, int round) => FuzzSettings.StreamSeed(seed ^ 0x0C11E47, round);

    /// <summary>Marker, a few valid frames for the real subscription, then a mutated stream, and usually a line that cannot parse.</summary>
    private static byte[] BuildRound(int seed, int round, long sid)
    {
        var rng = new Random(RoundSeed(seed, round));
        var generator = new FrameGenerator(rng) { FixedSid = sid, ConnectUrls = false };
        var mutator = new FrameMutator(rng, generator);
        var marker = Encoding.ASCII.GetBytes(round.ToString(CultureInfo.InvariantCulture));
        var parts = new List<byte[]> { Encoding.ASCII.GetBytes($"MSG fuzz.marker {sid} {marker.Length}\r\n"), marker, "\r\n"u8.ToArray() };
        for (var i = rng.Next(4); i > 0; i--)
        {
            parts.Add(generator.Next().Bytes);
        }

        var frames = Enumerable.Range(0, 1 + rng.Next(8)).Select(_ => generator.Next()).ToList();
        parts.Add(mutator.Build(frames, mutate: true).Bytes);
        if (rng.Next(4) != 0)
        {
            parts.Add("XQZ not a protocol line\r\n"u8.ToArray());
        }

        return FrameGenerator.Concat([.. parts]);
    }
}

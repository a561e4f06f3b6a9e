using System.Diagnostics;
using System.Globalization;
using System.Text;
using CacheProvider.Nats.Internal;

namespace CacheProvider.Nats.Tests.Fuzz;

/// <summary>
/// Parser-level fuzzing. Replay a failure with the seed it prints: FUZZ_SEED=&lt;run seed&gt; reruns the whole
/// run, FUZZ_REPLAY=&lt;stream seed&gt; reruns only the failing stream and prints it.
/// </summary>
[Trait("Category", "Fuzz")]
[Collection(FuzzCollection.Name)]
public sealed class ParserFuzzTests(ITestOutputHelper output)
{
    /// <summary>A stream that takes longer than this is stuck in the parser (a whole stream normally takes microseconds).</summary>
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Garbled_frames_raise_only_NatsProtocolException_and_valid_frames_round_trip()
    {
        var replay = Environment.GetEnvironmentVariable("FUZZ_REPLAY");
        if (!string.IsNullOrEmpty(replay))
        {
            var stats = new FuzzStats();
            // Console too: the runner shows test output only for failures, and a replay is read either way.
            void Print(string line)
            {
                output.WriteLine(line);
                Console.WriteLine(line);
            }

            var started = Stopwatch.GetTimestamp();
            RunStream(int.Parse(replay, CultureInfo.InvariantCulture), stats, verbose: Print);
            Print($"replayed stream {replay} in {Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms: {stats}");
            return;
        }

        var seed = FuzzSettings.Seed;
        var target = FuzzSettings.Frames;
        var total = new FuzzStats();
        var current = 0;
        long completed = 0;
        var clock = Stopwatch.StartNew();
        var worker = Task.Factory.StartNew(
            () =>
            {
                for (var i = 0; total.Frames < target; i++)
                {
                    var streamSeed = FuzzSettings.StreamSeed(seed, i);
                    Volatile.Write(ref current, streamSeed);
                    var started = Stopwatch.GetTimestamp();
                    RunStream(streamSeed, total, verbose: null);
                    total.Timed(streamSeed, Stopwatch.GetElapsedTime(started));
                    Interlocked.Increment(ref completed);
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        // A watchdog rather than a plain timeout: a parser stuck in a loop never returns, so the test has to stop
        // waiting for it and name the stream that hung.
        var seen = -1L;
        var lastProgress = Stopwatch.StartNew();
        while (await Task.WhenAny(worker, Task.Delay(200)) != worker)
        {
            var now = Interlocked.Read(ref completed);
            if (now != seen)
            {
                seen = now;
                lastProgress.Restart();
            }
            else if (lastProgress.Elapsed > HangLimit)
            {
                Assert.Fail($"Parser hang: stream seed {Volatile.Read(ref current)} (run seed {seed}) made no progress for {HangLimit.TotalSeconds} s. Replay with FUZZ_REPLAY={Volatile.Read(ref current)}");
            }
        }

        await worker;
        var seconds = clock.Elapsed.TotalSeconds;
        var summary = string.Create(
            CultureInfo.InvariantCulture,
            $"parser fuzz: seed {seed}, {total}, {seconds:0.0} s, {total.Frames / seconds:0} frames/s, {total.Bytes / seconds / 1e6:0.0} MB/s");
        output.WriteLine(summary);
        Console.WriteLine(summary);
        Assert.True(total.ProtocolErrors > 0 && total.Waiting > 0 && total.ValidStreams > 0, "the generator must reach every outcome");
    }

    [Fact]
    public void Every_split_point_of_valid_frames_round_trips()
    {
        // Exhaustive rather than random: each frame cut at every offset into two segments, and byte by byte.
        var rng = new Random(FuzzSettings.Seed);
        var generator = new FrameGenerator(rng);
        for (var n = 0; n < 150; n++)
        {
            var frame = generator.Next();
            if (frame.Bytes.Length > 2000)
            {
                continue;
            }

            for (var cut = 0; cut <= frame.Bytes.Length; cut++)
            {
                AssertRoundTrip(frame, [frame.Bytes[..cut], frame.Bytes[cut..]]);
            }

            AssertRoundTrip(frame, [.. frame.Bytes.Select(b => new[] { b })]);
        }
    }

    private static void AssertRoundTrip(GeneratedFrame frame, byte[][] segments)
    {
        var sequence = SequenceBuilder.Build(segments);
        var handler = new RecordingHandler();
        Assert.True(new ProtocolParser().TryParse(ref sequence, handler), $"not parsed: {frame.Expected}");
        Assert.True(sequence.IsEmpty);
        var received = Assert.Single(handler.Events);
        Assert.True(frame.Expected.Matches(received, out var why), $"{why}: {frame.Expected} split {string.Join('+', segments.Select(s => s.Length))}");
    }

    /// <summary>Generates, mutates and feeds one stream; everything it does follows from <paramref name="streamSeed"/>.</summary>
    private static void RunStream(int streamSeed, FuzzStats stats, Action<string>? verbose)
    {
        var rng = new Random(streamSeed);
        var generator = new FrameGenerator(rng);
        var mutator = new FrameMutator(rng, generator);
        var frames = new List<GeneratedFrame>();
        for (var i = 1 + rng.Next(12); i > 0; i--)
        {
            frames.Add(generator.Next());
        }

        var stream = mutator.Build(frames, mutate: rng.Next(2) == 0);
        var feeder = new ParserFeeder(rng);
        var handler = new RecordingHandler();
        verbose?.Invoke($"mutations: {(stream.Mutated ? stream.Mutations : "none")}; {stream.Bytes.Length} bytes; expected:\n  {string.Join("\n  ", stream.Expected)}");
        FeedOutcome outcome;
        try
        {
            outcome = feeder.Feed(stream.Bytes, new ProtocolParser(), handler);
        }
        catch (FuzzFailure ex)
        {
            throw new FuzzFailure($"{Describe(streamSeed, stream)}\n{ex.Message}");
        }
        catch (Exception ex)
        {
            // Feed catches NatsProtocolException itself, so anything arriving here is another type: a bug.
            throw new FuzzFailure($"{Describe(streamSeed, stream)}\n{ex.GetType().Name} escaped the parser: {ex}");
        }

        verbose?.Invoke($"outcome {outcome} after {feeder.Reads} reads; received:\n  {string.Join("\n  ", handler.Events)}");
        var mustMatch = stream.Mutated ? stream.IntactEvents : stream.Expected.Count;
        if (!stream.Mutated && (outcome != FeedOutcome.Drained || handler.Events.Count != stream.Expected.Count))
        {
            throw new FuzzFailure($"{Describe(streamSeed, stream)}\nvalid stream ended {outcome} with {handler.Events.Count} of {stream.Expected.Count} operations");
        }

        if (handler.Events.Count < mustMatch)
        {
            throw new FuzzFailure($"{Describe(streamSeed, stream)}\nonly {handler.Events.Count} operations before the first mutated byte, expected {mustMatch}");
        }

        for (var i = 0; i < mustMatch; i++)
        {
            if (!stream.Expected[i].Matches(handler.Events[i], out var why))
            {
                throw new FuzzFailure($"{Describe(streamSeed, stream)}\noperation {i} mis-parsed ({why}):\n  sent     {stream.Expected[i]}\n  received {handler.Events[i]}");
            }
        }

        stats.Add(stream, outcome, handler.Events.Count);
    }

    private static string Describe(int streamSeed, FuzzStream stream)
    {
        var head = stream.Bytes.AsSpan(0, Math.Min(stream.Bytes.Length, 400));
        return $"Fuzz failure in stream seed {streamSeed} (replay: FUZZ_REPLAY={streamSeed}); mutations: {(stream.Mutated ? stream.Mutations : "none, valid stream")}\n" +
               $"stream ({stream.Bytes.Length} bytes) starts: {Escape(head)}";
    }

    private static string Escape(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        foreach (var b in bytes)
        {
            sb.Append(b is >= 0x20 and < 0x7f and not (byte)'\\' ? ((char)b).ToString() : $"\\x{b:x2}");
        }

        return sb.ToString();
    }
}

/// <summary>Counters for the summary line. Streams run one after another on one thread.</summary>
internal sealed class FuzzStats
{
    public long Streams { get; private set; }
    public long Frames { get; private set; }
    public long Bytes { get; private set; }
    public long ValidStreams { get; private set; }
    public long ProtocolErrors { get; private set; }
    public long Waiting { get; private set; }
    public long Operations { get; private set; }

    /// <summary>The slowest stream, reported so that a near-hang shows up before it becomes one.</summary>
    public (int Seed, TimeSpan Time) Slowest { get; private set; }

    public void Timed(int seed, TimeSpan time)
    {
        if (time > Slowest.Time)
        {
            Slowest = (seed, time);
        }
    }

    public void Add(FuzzStream stream, FeedOutcome outcome, int operations)
    {
        Streams++;
        Frames += stream.Expected.Count;
        Bytes += stream.Bytes.Length;
        ValidStreams += stream.Mutated ? 0 : 1;
        ProtocolErrors += outcome == FeedOutcome.ProtocolError ? 1 : 0;
        Waiting += outcome == FeedOutcome.Waiting ? 1 : 0;
        Operations += operations;
    }

    public override string ToString() =>
        $"{Frames} frames in {Streams} streams ({ValidStreams} valid, {Streams - ValidStreams} mutated: {ProtocolErrors} protocol errors, {Waiting} waiting for more), {Operations} operations parsed, {Bytes} bytes, slowest stream {Slowest.Seed} took {Slowest.Time.TotalMilliseconds:0} ms";
}

/// <summary>Run-wide settings from the environment, so that ./build.sh fuzz can ask for a long run.</summary>
internal static class FuzzSettings
{
    /// <summary>Frames in the parser run; the default keeps the CI run well under 20 s.</summary>
    public static long Frames => long.TryParse(Environment.GetEnvironmentVariable("FUZZ_FRAMES"), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 20_000;

    /// <summary>Fixed by default so that CI is deterministic; set FUZZ_SEED to explore elsewhere.</summary>
    public static int Seed => int.TryParse(Environment.GetEnvironmentVariable("FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20_251_104;

    /// <summary>SplitMix64 of (seed, index): independent, reproducible per-stream seeds.</summary>
    public static int StreamSeed(int seed, long index)
    {
        var z = unchecked(((ulong)(uint)seed << 32) + (ulong)index + 0x9E3779B97F4A7C15UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (int)((z ^ (z >> 31)) & int.MaxValue);
    }
}

/// <summary>Fuzz tests hook process-wide events (unobserved task exceptions), so they run alone.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "Fuzz";
}

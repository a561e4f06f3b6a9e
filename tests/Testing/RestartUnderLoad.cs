using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit.Abstractions;

namespace CacheProvider.Testing;

/// <summary>What a <see cref="RestartUnderLoad"/> run saw.</summary>
/// <param name="LastAcknowledged">Per writer, the number of its last acknowledged write (0: none).</param>
/// <param name="FirstAckAfterBack">From the restarted server being ready to the first write acknowledged after it.</param>
/// <param name="AllWritersBackAfter">From the server being ready until every writer had a write acknowledged after it.</param>
/// <param name="Failures">Every write that threw, with its exception.</param>
public sealed record RestartReport(long[] LastAcknowledged, TimeSpan FirstAckAfterBack, TimeSpan AllWritersBackAfter, IReadOnlyList<Exception> Failures)
{
    /// <summary>One line for the test output.</summary>
    public override string ToString() =>
        $"first acknowledged write {FirstAckAfterBack.TotalMilliseconds:F0} ms after the server was back, all writers back after {AllWritersBackAfter.TotalMilliseconds:F0} ms; " +
        $"{LastAcknowledged.Sum()} writes acknowledged, {Failures.Count} failed" +
        (Failures.Count == 0 ? string.Empty : ": " + string.Join("; ", Failures.Take(3).Select(f => f.GetType().Name + ": " + f.Message)));
}

/// <summary>
/// Issue #24's scenario, shared by every layer's test: writers write in a loop (writer w's n-th write carries n, so a
/// later state of its key shows which write it holds) while the nats-server is killed with SIGKILL and started again on
/// the same port and store. Each layer's test then checks through its own read path that every writer's key holds its
/// last acknowledged write or a later one — a later, unacknowledged write may have landed too — and bounds the time
/// to the first acknowledged write after the server is back (loosely: the tight goal is measured in bench/).
/// </summary>
public static class RestartUnderLoad
{
    /// <summary>Runs the writers, kills and restarts <paramref name="server"/>, and stops once every writer is back.</summary>
    /// <param name="server">The server to kill and start again.</param>
    /// <param name="writers">How many writers run at once.</param>
    /// <param name="write">Writes number n (from 1) of writer w; returns once acknowledged, throws if not.</param>
    /// <param name="output">Receives the report line.</param>
    /// <param name="down">How long the server stays down (default 1 s).</param>
    public static async Task<RestartReport> RunAsync(NatsServer server, int writers, Func<int, long, Task> write, ITestOutputHelper? output = null, TimeSpan? down = null)
    {
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(write);
        var last = new long[writers];
        var backFirst = new long[writers];
        var failures = new ConcurrentQueue<Exception>();
        var clock = Stopwatch.StartNew();
        var backAt = long.MaxValue;
        using var stop = new CancellationTokenSource();

        async Task Writer(int w)
        {
            for (long n = 1; !stop.IsCancellationRequested; n++)
            {
                try
                {
                    await write(w, n).ConfigureAwait(false);
                }
                catch (Exception ex)
                {
                    failures.Enqueue(ex);
                    await Task.Delay(20).ConfigureAwait(false);
                    continue;
                }

                Volatile.Write(ref last[w], n);
                if (clock.ElapsedTicks > Interlocked.Read(ref backAt) && Volatile.Read(ref backFirst[w]) == 0)
                {
                    Volatile.Write(ref backFirst[w], clock.ElapsedTicks);
                }
            }
        }

        var tasks = Enumerable.Range(0, writers).Select(w => Task.Run(() => Writer(w))).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        await server.KillAsync().ConfigureAwait(false);
        await Task.Delay(down ?? TimeSpan.FromSeconds(1)).ConfigureAwait(false);
        await server.StartAgainAsync().ConfigureAwait(false);
        Interlocked.Exchange(ref backAt, clock.ElapsedTicks);

        var deadline = clock.Elapsed + TimeSpan.FromSeconds(30);
        while (clock.Elapsed < deadline && Enumerable.Range(0, writers).Any(w => Volatile.Read(ref backFirst[w]) == 0))
        {
            await Task.Delay(20).ConfigureAwait(false);
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(60)).ConfigureAwait(false);

        TimeSpan Since(long ticks) => ticks == 0 ? TimeSpan.MaxValue : TimeSpan.FromSeconds((ticks - backAt) / (double)Stopwatch.Frequency);
        var back = backFirst.Where(t => t != 0).ToArray();
        var report = new RestartReport(
            last,
            back.Length == 0 ? TimeSpan.MaxValue : Since(back.Min()),
            back.Length < writers ? TimeSpan.MaxValue : Since(back.Max()),
            failures.ToArray());
        output?.WriteLine(report.ToString());
        return report;
    }
}

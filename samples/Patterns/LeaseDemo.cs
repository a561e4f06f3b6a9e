using System.Globalization;
using CacheProvider.Leases;
using CacheProvider.Samples.Expiry;
using NATS.Client.Core;

namespace CacheProvider.Samples.Patterns;

/// <summary>
/// Two job runners and one lock: runner A takes it and "crashes" (its connection vanishes, no release), runner B was
/// waiting on the key and takes over when the server expires A's lease. A's late write is then refused by fencing.
/// </summary>
internal sealed class LeaseDemo(string url, DemoNames names, ILeaseManager runnerB, Narrator say)
{
    private const string Job = "jobs/nightly-report";
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(3);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        say.Heading("Leased lock: a job runner crashes, another takes over after the TTL");
        var connectionA = new NatsConnection(NatsOpts.Default with { Url = url, Name = "runner-A" });
        var runnerA = new LeaseManager(connectionA, new LeaseOptions { Bucket = names.Leases, Owner = "runner-A", DefaultTtl = Ttl });
        var store = new FencedReportStore();

        var leaseA = await runnerA.AcquireAsync(Job, TimeSpan.FromSeconds(5), cancellationToken: cancellationToken).ConfigureAwait(false);
        var lostA = new TaskCompletionSource<LeaseLostEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        leaseA.Lost += (_, e) => lostA.TrySetResult(e);
        say.Say($"runner-A holds '{Job}': fencing token {leaseA.FencingToken}, TTL {Ttl.TotalSeconds:0} s, renewing every {Ttl.TotalSeconds / 3:0.0} s");
        say.Say($"runner-A writes part 1 with token {leaseA.FencingToken}: {store.Write(leaseA.FencingToken, "part 1")}");

        var waiting = runnerB.AcquireAsync(Job, TimeSpan.FromSeconds(20), cancellationToken: cancellationToken);
        say.Say("runner-B wants the same job and waits (watching the key, not polling)");

        await Task.Delay(TimeSpan.FromSeconds(2.5), cancellationToken).ConfigureAwait(false);
        if (leaseA.Revision == leaseA.FencingToken || !leaseA.IsHeld)
        {
            throw new DemoFailedException("runner-A's lease did not renew itself");
        }

        say.Say($"runner-A's lease renewed itself (now at revision {leaseA.Revision}); runner-B still waiting: {!waiting.IsCompleted}");

        await connectionA.DisposeAsync().ConfigureAwait(false);
        say.Say("runner-A crashes: its connection is gone, nothing is released, renewals stop");
        var deadline = (await runnerB.GetHolderAsync(Job, cancellationToken).ConfigureAwait(false))?.ExpiresAt
            ?? throw new DemoFailedException("the lock should still be held by runner-A");
        say.Say($"runner-A's lease expires on the server at {deadline:HH:mm:ss.fff} unless renewed");

        await using var leaseB = await waiting.WaitAsync(TimeSpan.FromSeconds(20), cancellationToken).ConfigureAwait(false);
        var late = (DateTimeOffset.UtcNow - deadline).TotalMilliseconds;
        say.Say(string.Create(CultureInfo.InvariantCulture, $"runner-B took over {late:0} ms after that deadline: fencing token {leaseB.FencingToken} (> {leaseA.FencingToken})"));
        say.Say($"runner-B writes part 2 with token {leaseB.FencingToken}: {store.Write(leaseB.FencingToken, "part 2")}");

        var lost = await lostA.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken).ConfigureAwait(false);
        say.Say($"runner-A's lease reports itself lost ({lost.Reason}); LostToken cancelled: {leaseA.LostToken.IsCancellationRequested}");

        // A zombie that missed the signal (a long GC pause, say) still cannot do harm: its token is too old.
        var zombie = store.Write(leaseA.FencingToken, "stale part");
        say.Say($"runner-A, resuming from a pause, writes with its old token {leaseA.FencingToken}: {zombie}");
        if (zombie.StartsWith("accepted", StringComparison.Ordinal))
        {
            throw new DemoFailedException("the fenced store accepted a stale token");
        }

        await runnerA.DisposeAsync().ConfigureAwait(false);
        var released = await leaseB.ReleaseAsync(cancellationToken).ConfigureAwait(false);
        say.Say($"runner-B finishes and releases the lock (compare-and-set purge, no tombstone left): {released}");
    }

    /// <summary>A resource that remembers the highest fencing token it has seen and refuses older ones.</summary>
    private sealed class FencedReportStore
    {
        private ulong _highest;

        public string Write(ulong token, string what)
        {
            if (token < _highest)
            {
                return $"refused '{what}' (token {token} < {_highest})";
            }

            _highest = token;
            return $"accepted '{what}'";
        }
    }
}

using System.Diagnostics;
using Orleans;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// The story, once, against running silo processes: the membership table; counters placed across the silos, each
/// with NATS-stored state and a ticking reminder; kill -9 of the silo holding the most counters; every other silo's
/// view marking it Dead; its counters' reminders ticking on the survivors; its counters reactivated there with their
/// state; the killed silo restarted and rejoining. Prints each step; true when all behaved.
/// </summary>
internal sealed class ClusterStory(IClusterClient client, SiloFleet fleet, TimeSpan patience)
{
    private const int Counters = 9;
    private const int IncrementsEach = 3;
    private bool _ok = true;

    public async Task<bool> RunAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        Step("the membership table:");
        await MembershipTablePrinter.PrintAsync(client, "         ");

        // 1. Counters across the cluster, each incremented a few times (state in NATS, a reminder in NATS).
        var placed = new List<CounterView>();
        for (var i = 1; i <= Counters; i++)
        {
            var counter = client.GetGrain<ICounterGrain>($"counter-{i}");
            CounterView view = null!;
            for (var n = 0; n < IncrementsEach; n++)
            {
                view = await counter.Increment().WaitAsync(patience, cancellationToken);
            }

            placed.Add(view);
        }

        Step("counters and the silos they live on:");
        foreach (var group in placed.GroupBy(v => v.Silo).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"         {group.Key}: {string.Join(", ", group.Select(v => $"{v.Key}={v.Value}"))}");
        }

        Check(placed.All(v => v.Value >= IncrementsEach), $"{Counters} counters written, each to at least {IncrementsEach}");

        // 2. Their reminders tick (announced on each silo's stdout; nobody calls the grains for it).
        var since = DateTime.UtcNow;
        var ticking = await WaitAsync(() => placed.All(v => fleet.TickedSince(v.Key, since, exceptSilo: null) is not null), cancellationToken);
        Check(ticking, ticking ? "every counter's heartbeat reminder ticks" : "not every counter's reminder ticked: " + string.Join(", ", placed.Where(v => fleet.TickedSince(v.Key, since, null) is null).Select(v => v.Key)));

        // 3. Kill -9 the silo holding the most counters.
        var victimName = placed.GroupBy(v => v.Silo).OrderByDescending(g => g.Count()).First().Key;
        var victim = fleet.Running.Single(s => s.Name == victimName);
        var victimAddress = victim.Address!;
        var moved = placed.Where(v => v.Silo == victimName).ToList();
        var survivors = fleet.Running.Where(s => s != victim).ToList();
        Step($"kill -9 {victimName} (pid {victim.Pid}), which holds {string.Join(", ", moved.Select(v => v.Key))}");
        var killedAt = DateTime.UtcNow;
        victim.Kill();
        fleet.Forget(victim);

        using (var live = LiveViews.Start(survivors, victimAddress, killedAt))
        {
            var dead = await WaitAsync(() => survivors.All(s => s.StatusOf(victimAddress) == "Dead"), cancellationToken);
            var deadAfter = (DateTime.UtcNow - killedAt).TotalSeconds;
            Check(dead, dead
                ? $"every other silo's view marks {victimName} Dead, {deadAfter:0.0} s after the kill"
                : $"{victimName} not Dead in every view: {string.Join(", ", survivors.Select(s => $"{s.Name} sees {s.StatusOf(victimAddress) ?? "nothing"}"))}");
        }

        Step("the membership table now:");
        await MembershipTablePrinter.PrintAsync(client, "         ");

        // 4. The dead silo's counters: their reminders tick on the survivors before anyone calls them...
        var elsewhere = await WaitAsync(() => moved.All(v => fleet.TickedSince(v.Key, killedAt, exceptSilo: victimName) is not null), cancellationToken);
        foreach (var v in moved)
        {
            var tick = fleet.TickedSince(v.Key, killedAt, exceptSilo: victimName);
            Console.WriteLine(tick is { } t
                ? $"         {v.Key}: reminder ticks on {t.Silo}, {(t.At - killedAt).TotalSeconds:0.0} s after the kill"
                : $"         {v.Key}: no tick elsewhere yet");
        }

        Check(elsewhere, $"the reminders of {victimName}'s counters tick on the other silos");

        // ...and, called, they answer from a survivor with the value they had.
        var reactivated = new List<CounterView>();
        foreach (var v in moved)
        {
            reactivated.Add(await client.GetGrain<ICounterGrain>(v.Key).Get().WaitAsync(patience, cancellationToken));
        }

        foreach (var (before, after) in moved.Zip(reactivated))
        {
            Console.WriteLine($"         {after.Key}: now on {after.Silo}, value {after.Value} (was {before.Value} on {before.Silo}, written on {after.WrittenOn})");
        }

        Check(reactivated.All(a => a.Silo != victimName) && moved.Zip(reactivated).All(p => p.Second.Value == p.First.Value),
            $"{victimName}'s counters reactivated on the survivors with their stored state");

        // 5. Restart the killed silo (same name and ports, a new generation): it rejoins.
        Step($"restart {victimName}");
        var restarted = fleet.Start(victim.Settings);
        await restarted.WaitReadyAsync(patience, cancellationToken);
        var rejoined = await WaitAsync(() => fleet.Running.All(s => s.StatusOf(restarted.Address!) == "Active"), cancellationToken);
        Check(rejoined, rejoined
            ? $"{victimName} rejoined as {restarted.Address} in {restarted.JoinTime?.TotalSeconds:0.0} s; every silo sees it Active"
            : $"{victimName} is not Active in every view: {string.Join(", ", fleet.Running.Select(s => $"{s.Name} sees {s.StatusOf(restarted.Address!) ?? "nothing"}"))}");
        await MembershipTablePrinter.PrintAsync(client, "         ");
        Step($"story took {clock.Elapsed.TotalSeconds:0.0} s");
        return _ok;
    }

    private async Task<bool> WaitAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(100, cancellationToken);
        }

        return true;
    }

    private static void Step(string what) => Console.WriteLine($"  ..   {what}");

    private void Check(bool condition, string what)
    {
        Console.WriteLine($"  {(condition ? "ok  " : "FAIL")} {what}");
        _ok &= condition;
    }
}

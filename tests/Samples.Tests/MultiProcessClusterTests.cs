using CacheProvider.Samples.Cluster;

namespace CacheProvider.Samples.Tests;

/// <summary>
/// An Orleans cluster of real silo processes (samples/Cluster) and a client, configured with NATS only: membership,
/// gateways, grain directory, grain storage and reminders all in one nats-server. Kill -9, restart, and a nats-server
/// outage under the running cluster. Silos run the fast probe profile (ProbeTimeout 2 s, 2 missed probes); waits are
/// generous (<see cref="ClusterUnderTest.Patience"/>) because the machine is shared.
/// </summary>
public sealed class MultiProcessClusterTests(ITestOutputHelper output)
{
    /// <summary>
    /// With ProbeTimeout 2 s × NumMissedProbesLimit 2 and a table refresh of 5 s, a killed silo is Dead in every view
    /// in well under this; the slack is for a loaded 2-core machine (the bench measures the real figure).
    /// </summary>
    private static readonly TimeSpan DeathBound = TimeSpan.FromSeconds(45);

    [Fact]
    public async Task A_killed_silo_is_declared_dead_its_grains_reactivate_with_state_its_reminders_tick_elsewhere_and_it_rejoins()
    {
        await using var cluster = await ClusterUnderTest.StartAsync(output);
        var client = cluster.Client;

        // Counters across the three silos, each with stored state and a reminder.
        var placed = new List<CounterView>();
        for (var i = 0; i < 12; i++)
        {
            var counter = client.GetGrain<ICounterGrain>($"c{i}");
            await counter.Increment();
            placed.Add(await counter.Increment());
        }

        var victimName = placed.GroupBy(v => v.Silo).OrderByDescending(g => g.Count()).First().Key;
        var victim = cluster.Fleet.Running.Single(s => s.Name == victimName);
        var victimAddress = victim.Address!;
        var moved = placed.Where(v => v.Silo == victimName).ToList();
        var survivors = cluster.Fleet.Running.Where(s => s != victim).ToList();
        Assert.NotEmpty(moved);

        var killedAt = DateTime.UtcNow;
        victim.Kill();
        cluster.Fleet.Forget(victim);

        // Declared dead in both other silos' views, within the probe settings' bound.
        Assert.True(await ClusterUnderTest.EventuallyAsync(() => survivors.All(s => s.StatusOf(victimAddress) == "Dead"), DeathBound),
            $"{victimName} not Dead in every other view within {DeathBound.TotalSeconds} s: {string.Join("; ", survivors.Select(s => s.Name + ": " + ClusterUnderTest.Describe(s.View)))}");
        output.WriteLine($"{victimName} Dead in every other view {(DateTime.UtcNow - killedAt).TotalSeconds:0.0} s after kill -9");

        // Its counters' reminders tick on the survivors without anyone calling the counters.
        Assert.True(await ClusterUnderTest.EventuallyAsync(() => moved.All(v => cluster.Fleet.TickedSince(v.Key, killedAt, exceptSilo: victimName) is not null)),
            "not every reminder of the killed silo's counters ticked elsewhere: " + string.Join(", ", moved.Where(v => cluster.Fleet.TickedSince(v.Key, killedAt, victimName) is null).Select(v => v.Key)));
        foreach (var v in moved)
        {
            Assert.Contains(cluster.Fleet.TickedSince(v.Key, killedAt, victimName)!.Value.Silo, survivors.Select(s => s.Name));
        }

        // They reactivate on the survivors with the state written on the dead silo.
        foreach (var before in moved)
        {
            var after = await ClusterUnderTest.RetryAsync(() => client.GetGrain<ICounterGrain>(before.Key).Get());
            Assert.NotEqual(victimName, after.Silo);
            Assert.Equal(before.Value, after.Value);
            Assert.Equal(victimName, after.WrittenOn);
        }

        // The other counters kept their activations and state.
        foreach (var stayed in placed.Where(v => v.Silo != victimName))
        {
            var now = await ClusterUnderTest.RetryAsync(() => client.GetGrain<ICounterGrain>(stayed.Key).Get());
            Assert.Equal(stayed.Silo, now.Silo);
            Assert.Equal(stayed.Value, now.Value);
        }

        // Restarted (same name and ports, a new generation), it rejoins: Active in every view, its old self Dead.
        var restarted = cluster.StartSilo(victimName, victim.Settings.SiloPort, victim.Settings.GatewayPort);
        await restarted.WaitReadyAsync(ClusterUnderTest.Patience);
        Assert.NotEqual(victimAddress, restarted.Address);
        Assert.True(await ClusterUnderTest.EventuallyAsync(() => cluster.Fleet.Running.All(s => s.StatusOf(restarted.Address!) == "Active" && s.StatusOf(victimAddress) is null or "Dead")),
            "the restarted silo is not Active in every view: " + string.Join("; ", cluster.Fleet.Running.Select(s => s.Name + ": " + ClusterUnderTest.Describe(s.View))));

        // And it hosts grains again: new counters land on all three silos eventually.
        var hosts = new HashSet<string>();
        for (var i = 0; i < 60 && hosts.Count < 3; i++)
        {
            hosts.Add((await ClusterUnderTest.RetryAsync(() => client.GetGrain<ICounterGrain>($"after-{i}").Increment())).Silo);
        }

        Assert.Contains(victimName, hosts);
    }

    [Fact]
    public async Task A_nats_server_outage_under_the_running_cluster_declares_no_silo_dead()
    {
        await using var cluster = await ClusterUnderTest.StartAsync(output);
        var client = cluster.Client;
        var before = await client.GetGrain<ICounterGrain>("outage").Increment();
        var silos = cluster.Fleet.Running;
        var addresses = silos.Select(s => s.Address!).ToList();
        var since = DateTime.UtcNow;

        // Two outages: one shorter than the fast profile's IAmAlive miss allowance (3 s × 3 = 9 s), one longer.
        foreach (var outage in new[] { TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(20) })
        {
            await cluster.Server.StopAsync();
            output.WriteLine($"nats-server stopped for {outage.TotalSeconds} s");
            await Task.Delay(outage);
            await cluster.Server.StartAgainAsync(); // same port, same store directory

            // Grain calls work again: the counter's state write goes through.
            var after = await ClusterUnderTest.RetryAsync(() => client.GetGrain<ICounterGrain>("outage").Increment());
            Assert.True(after.Value > before.Value);
            before = after;

            // Several table refreshes and IAmAlive rounds after the outage (table refresh 5 s, IAmAlive 3 s).
            await Task.Delay(TimeSpan.FromSeconds(12));
        }

        // Every silo still runs, and no view ever showed any silo as anything but Active since the first outage began.
        foreach (var silo in silos)
        {
            Assert.False(silo.HasExited, $"{silo.Name} exited:\n{silo.Tail(60)}");
            foreach (var address in addresses)
            {
                Assert.Equal("Active", silo.StatusOf(address));
            }

            foreach (var (at, e) in silo.Events)
            {
                if (at >= since && e is SiloEvent.View view)
                {
                    Assert.All(view.Members.Where(m => addresses.Contains(m.Address)), m => Assert.Equal("Active", m.Status));
                }
            }
        }
    }
}

using CacheProvider.KeyValue;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using Xunit.Abstractions;

namespace CacheProvider.Grains.Tests.Deactivation;

/// <summary>
/// Deactivation on a change across silos and failures: two silos, a silo killed while its activations are registered,
/// a nats-server restart (every registered activation re-checked), and 10,000 activations whose states expire together.
/// </summary>
public sealed class DeactivationClusterTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static string[] NewKeys(int count) => [.. Enumerable.Range(0, count).Select(_ => Guid.NewGuid().ToString("N"))];

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan patience, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(describe());
            }

            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task Activations_on_both_of_two_silos_are_deactivated_when_their_states_expire()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var cluster = await DeactivationCluster.StartAsync(server, silos: 2);
        var keys = NewKeys(40);
        var silos = new HashSet<string>();
        foreach (var key in keys)
        {
            var grain = cluster.Cluster.Client.GetGrain<IExpiringNoteGrain>(key);
            await grain.Write("x");
            silos.Add(await grain.Where());
        }

        Assert.Equal(2, silos.Count);
        await WaitUntilAsync(() => DeactivationLog.CountMatching(keys, "expired") == keys.Length, Patience,
            () => $"{DeactivationLog.CountMatching(keys, "expired")}/{keys.Length} deactivated");
        await WaitUntilAsync(() => cluster.SiloStorage(0).Watcher.WatchedKeys + cluster.SiloStorage(1).Watcher.WatchedKeys == 0, Patience,
            () => "registrations left after every activation went");
    }

    [Fact]
    public async Task A_killed_silo_leaves_nothing_registered_on_the_other_and_its_grains_come_back_there_and_still_expire()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var cluster = await DeactivationCluster.StartAsync(server, silos: 2);
        var survivor = cluster.Cluster.Silos[0];
        var victim = cluster.Cluster.Silos[1];
        var keys = NewKeys(30);
        var onVictim = new List<string>();
        foreach (var key in keys)
        {
            var grain = cluster.Cluster.Client.GetGrain<IWatchedNoteGrain>(key);
            await grain.Write("x");
            if (await grain.Where() == victim.SiloAddress.ToString())
            {
                onVictim.Add(key);
            }
        }

        Assert.NotEmpty(onVictim);
        var survivorStorage = cluster.SiloStorage(0);
        var survivorsOwn = keys.Length - onVictim.Count;
        Assert.Equal(survivorsOwn, survivorStorage.Watcher.WatchedKeys);

        await cluster.Cluster.KillSiloAsync(victim);

        // The survivor holds registrations for its own activations only, then for the victim's grains once they are
        // called again (activated on it), and none after those activations go.
        Assert.Equal(survivorsOwn, survivorStorage.Watcher.WatchedKeys);
        var other = await cluster.OtherStorageAsync();
        foreach (var key in onVictim)
        {
            var view = await cluster.Cluster.Client.GetGrain<IWatchedNoteGrain>(key).Get();
            Assert.Equal("x", view.Value);
        }

        Assert.Equal(keys.Length, survivorStorage.Watcher.WatchedKeys);
        foreach (var key in keys)
        {
            var grainId = cluster.Cluster.Client.GetGrain<IWatchedNoteGrain>(key).GetGrainId();
            var current = new GrainState<Silo.NoteState>(new Silo.NoteState());
            await other.ReadStateAsync(DeactivationCluster.WatchedState, grainId, current);
            current.State!.Value = "theirs";
            await other.WriteStateAsync(DeactivationCluster.WatchedState, grainId, current);
        }

        await WaitUntilAsync(() => survivorStorage.Watcher.WatchedKeys == 0, Patience, () => $"{survivorStorage.Watcher.WatchedKeys} registrations left on the survivor");
        Assert.Equal(keys.Length, DeactivationLog.CountMatching(keys, "written elsewhere"));
    }

    [Fact]
    public async Task After_a_nats_server_restart_every_registered_activation_is_rechecked_and_only_changed_ones_go()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var cluster = await DeactivationCluster.StartAsync(server, silos: 1, storage: KvStorage.File);
        var keys = NewKeys(50);
        var activations = new Dictionary<string, Guid>();
        foreach (var key in keys)
        {
            activations[key] = (await cluster.Cluster.Client.GetGrain<IWatchedNoteGrain>(key).Write("before")).ActivationId;
        }

        var watcher = cluster.SiloStorage().Watcher;
        var rechecks = watcher.Rechecks;
        await server.StopAsync();

        // While the server is down, another silo (a storage that stopped watching) will have written one state: it
        // writes as soon as the server is back, racing the watch's return; either the watch or the re-check reports it.
        var changedKey = keys[7];
        await server.StartAgainAsync();
        var other = await cluster.OtherStorageAsync();
        var grainId = cluster.Cluster.Client.GetGrain<IWatchedNoteGrain>(changedKey).GetGrainId();
        var current = new GrainState<Silo.NoteState>(new Silo.NoteState());
        await other.ReadStateAsync(DeactivationCluster.WatchedState, grainId, current);
        current.State!.Value = "during the gap";
        await other.WriteStateAsync(DeactivationCluster.WatchedState, grainId, current);

        await WaitUntilAsync(() => watcher.Rechecks > rechecks, Patience, () => "no re-check after the restart");
        Assert.Contains("written elsewhere", await DeactivationLog.WaitAsync(changedKey, Patience));
        Assert.Equal("during the gap", (await cluster.Cluster.Client.GetGrain<IWatchedNoteGrain>(changedKey).Get()).Value);
        foreach (var key in keys)
        {
            if (key == changedKey)
            {
                continue;
            }

            var view = await cluster.Cluster.Client.GetGrain<IWatchedNoteGrain>(key).Get();
            Assert.Equal(activations[key], view.ActivationId);
            Assert.False(DeactivationLog.TryGet(key, out _), $"unchanged {key} was deactivated");
        }
    }

    [Fact]
    public async Task Ten_thousand_activations_whose_states_expire_together_are_all_deactivated_and_unregistered()
    {
        const int Count = 10_000;
        await using var server = await NatsServer.StartAsync(output);
        await using var cluster = await DeactivationCluster.StartAsync(server);
        var keys = NewKeys(Count);
        var started = DateTime.UtcNow;
        await Parallel.ForEachAsync(keys, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (key, _) =>
            await cluster.Cluster.Client.GetGrain<IExpiringNoteGrain>(key).Write("x"));
        output.WriteLine($"{Count} activations written in {(DateTime.UtcNow - started).TotalSeconds:F1} s");

        var watcher = cluster.SiloStorage().Watcher;
        await WaitUntilAsync(() => DeactivationLog.CountMatching(keys, "expired") == Count, Patience,
            () => $"{DeactivationLog.CountMatching(keys, "expired")}/{Count} deactivated with the expiry reason");
        output.WriteLine($"all deactivated {(DateTime.UtcNow - started).TotalSeconds:F1} s after the first write");
        await WaitUntilAsync(() => watcher.WatchedKeys == 0, Patience, () => $"{watcher.WatchedKeys} registrations left");
    }
}

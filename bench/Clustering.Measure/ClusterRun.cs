using System.Diagnostics;
using CacheProvider.Bench.Reporting;
using CacheProvider.Samples.Cluster;
using CacheProvider.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orleans;

namespace CacheProvider.Clustering.Measure;

/// <summary>What one provider's figures collect into, over the repetitions.</summary>
internal sealed class ClusterFigures
{
    public Samples JoinSeconds { get; } = new();

    public Samples FirstCallMilliseconds { get; } = new();

    public Samples OutageRecoverySeconds { get; } = new();

    public Samples KillToDeadSeconds { get; } = new();
}

/// <summary>
/// One repetition for one provider: 3 silo processes of samples/Cluster (silo mode, the given clustering, Orleans'
/// default ClusterMembershipOptions on both sides) and a client. In order: join time of each silo, first-call latency
/// of new grains, kill -9 of one silo to Dead in every other view, and grain calls (on the two left) after a 3 s
/// outage of the clustering server. A step that fails is recorded as failed; the run goes on where it can.
/// </summary>
internal sealed class ClusterRun(string natsUrl, ClusteringProvider clustering, string? redis, string clusterId, Func<Task> stopServer, Func<Task> startServer, TimeSpan? natsReconnectWait)
{
    public const int FirstCalls = 200;
    public static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public async Task MeasureAsync(ClusterFigures figures)
    {
        await using var fleet = new SiloFleet();
        IHost? client = null;
        try
        {
            for (var i = 1; i <= 3; i++)
            {
                fleet.Start(new SiloSettings(natsUrl, NatsServer.FreePort(), NatsServer.FreePort(), $"s{i}", clustering, redis, MembershipProfile.Default, clusterId, ExitWithStdin: true)
                {
                    ReconnectWait = natsReconnectWait,
                });
            }

            foreach (var silo in fleet.Running)
            {
                await silo.WaitReadyAsync(Patience);
                figures.JoinSeconds.Add(silo.JoinTime!.Value.TotalSeconds);
            }

            client = await ClientHost.StartAsync(natsUrl, clustering, redis, clusterId, CancellationToken.None);
            var grains = client.Services.GetRequiredService<IClusterClient>();
            await grains.GetGrain<IPingGrain>(Guid.NewGuid()).Where().WaitAsync(Patience); // the client's own warm-up
            await Step(figures.FirstCallMilliseconds, () => FirstCallsAsync(grains, figures.FirstCallMilliseconds));
            // The kill on a healthy cluster, before the outage (whose aftermath, reconnects included, would weigh on it).
            await Step(figures.KillToDeadSeconds, async () => figures.KillToDeadSeconds.Add(await KillToDeadAsync(fleet)));
            await Step(figures.OutageRecoverySeconds, async () => figures.OutageRecoverySeconds.Add(await OutageAsync(grains)));
        }
        catch (Exception ex)
        {
            var error = Report.Describe(ex);
            figures.JoinSeconds.Fail(error);
            figures.FirstCallMilliseconds.Fail(error);
            figures.OutageRecoverySeconds.Fail(error);
            figures.KillToDeadSeconds.Fail(error);
            foreach (var silo in fleet.All)
            {
                Console.Error.WriteLine($"# {clustering} silo {silo.Name}: last lines\n{silo.Tail(20)}");
            }
        }
        finally
        {
            await Hosts.StopAsync(client, "client");
        }
    }

    private static async Task Step(Samples samples, Func<Task> step)
    {
        try
        {
            await step();
        }
        catch (Exception ex)
        {
            samples.Fail(Report.Describe(ex));
        }
    }

    /// <summary>Sequential first calls to new stateless grains: placement, directory registration, activation.</summary>
    private static async Task FirstCallsAsync(IClusterClient grains, Samples into)
    {
        for (var i = 0; i < FirstCalls; i++)
        {
            var grain = grains.GetGrain<IPingGrain>(Guid.NewGuid());
            var start = Stopwatch.GetTimestamp();
            await grain.Where().WaitAsync(TimeSpan.FromSeconds(30));
            into.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
    }

    /// <summary>
    /// The clustering server goes away for <see cref="Outage"/>, then comes back (same port, same store): the time from
    /// its return until a call to a new grain (which needs the grain directory) succeeds.
    /// </summary>
    private async Task<double> OutageAsync(IClusterClient grains)
    {
        await stopServer();
        await Task.Delay(Outage);
        await startServer();
        var back = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                await grains.GetGrain<IPingGrain>(Guid.NewGuid()).Where().WaitAsync(TimeSpan.FromSeconds(2));
                return back.Elapsed.TotalSeconds;
            }
            catch (Exception) when (back.Elapsed < Patience)
            {
                await Task.Delay(50);
            }
        }
    }

    /// <summary>kill -9 of one silo, then the time until every other silo's own view (its @view lines) says Dead.</summary>
    private static async Task<double> KillToDeadAsync(SiloFleet fleet)
    {
        var victim = fleet.Running[^1];
        var address = victim.Address!;
        var survivors = fleet.Running.Where(s => s != victim).ToList();
        var killedAt = DateTime.UtcNow;
        victim.Kill();
        fleet.Forget(victim);
        var deadline = DateTime.UtcNow + Patience;
        while (!survivors.All(s => s.StatusOf(address) == "Dead"))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not Dead in every view within {Patience.TotalSeconds:0} s");
            }

            await Task.Delay(20);
        }

        // The moment each survivor reported it: the first view line at or after the kill that says Dead.
        var latest = survivors.Max(s => s.Events.First(e => e.At >= killedAt && e.Event is SiloEvent.View v && v.Members.Any(m => m.Address == address && m.Status == "Dead")).At);
        return (latest - killedAt).TotalSeconds;
    }
}

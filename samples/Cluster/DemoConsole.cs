using Orleans;

namespace CacheProvider.Samples.Cluster;

/// <summary>After the story: a few commands to play with the running cluster until Ctrl+C.</summary>
internal static class DemoConsole
{
    private const string Help = "commands: table | counters | kill SILO | start SILO | quit   (Ctrl+C stops everything)";

    public static async Task RunAsync(IClusterClient grains, SiloFleet fleet, CancellationToken cancellationToken)
    {
        Console.WriteLine(Help);
        var stopped = new Dictionary<string, SiloSettings>(StringComparer.Ordinal);
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                // Console reads block and ignore cancellation: read on the thread pool so Ctrl+C is not stuck behind one.
                var line = await Task.Run(Console.ReadLine, CancellationToken.None).WaitAsync(cancellationToken);
                if (line is null)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken); // no console input: stay up until Ctrl+C
                    return;
                }

                switch (line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    case ["quit" or "exit"]:
                        return;
                    case ["table"]:
                        await MembershipTablePrinter.PrintAsync(grains);
                        break;
                    case ["counters"]:
                        for (var i = 1; i <= 9; i++)
                        {
                            var v = await grains.GetGrain<ICounterGrain>($"counter-{i}").Get();
                            Console.WriteLine($"  {v.Key} = {v.Value} on {v.Silo} (written on {v.WrittenOn}, {v.TicksHere} ticks here)");
                        }

                        break;
                    case ["kill", var name] when fleet.Running.FirstOrDefault(s => s.Name == name) is { } silo:
                        silo.Kill();
                        fleet.Forget(silo);
                        stopped[name] = silo.Settings;
                        Console.WriteLine($"  kill -9 {name} (pid {silo.Pid}); 'table' shows when the others declare it dead");
                        break;
                    case ["start", var name] when stopped.Remove(name, out var settings):
                        var started = fleet.Start(settings);
                        await started.WaitReadyAsync(TimeSpan.FromSeconds(120), cancellationToken);
                        Console.WriteLine($"  {name} Active again as {started.Address}");
                        break;
                    default:
                        Console.WriteLine(Help);
                        break;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }
}

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// The silo processes this app started: those still running, and every one ever started (their reported ticks stay
/// queryable after a kill). Disposing stops all that still run, by PID, concurrently.
/// </summary>
internal sealed class SiloFleet : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly List<SiloProcess> _all = [];
    private readonly List<SiloProcess> _running = [];

    /// <summary>Silos started and not killed or stopped through this fleet.</summary>
    public IReadOnlyList<SiloProcess> Running
    {
        get
        {
            lock (_gate)
            {
                return [.. _running];
            }
        }
    }

    /// <summary>Every silo started, killed and stopped ones included.</summary>
    public IReadOnlyList<SiloProcess> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _all];
            }
        }
    }

    public SiloProcess Start(SiloSettings settings)
    {
        var silo = SiloProcess.Start(settings);
        lock (_gate)
        {
            _all.Add(silo);
            _running.Add(silo);
        }

        return silo;
    }

    /// <summary>Takes a killed or stopped silo out of <see cref="Running"/>.</summary>
    public void Forget(SiloProcess silo)
    {
        lock (_gate)
        {
            _running.Remove(silo);
        }
    }

    /// <summary>The first reminder tick <paramref name="grain"/> got at or after <paramref name="since"/>, on a silo other than <paramref name="exceptSilo"/>.</summary>
    public (string Silo, DateTime At)? TickedSince(string grain, DateTime since, string? exceptSilo)
    {
        SiloProcess[] all;
        lock (_gate)
        {
            all = [.. _all];
        }

        (string, DateTime)? first = null;
        foreach (var silo in all)
        {
            foreach (var (at, e) in silo.Events)
            {
                if (e is SiloEvent.Tick tick && tick.Grain == grain && at >= since && tick.Silo != exceptSilo && (first is null || at < first.Value.Item2))
                {
                    first = (tick.Silo, at);
                }
            }
        }

        return first;
    }

    public async ValueTask DisposeAsync()
    {
        SiloProcess[] all;
        lock (_gate)
        {
            all = [.. _all];
            _running.Clear();
        }

        await Task.WhenAll(all.Select(s => s.DisposeAsync().AsTask()));
    }
}

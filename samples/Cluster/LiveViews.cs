namespace CacheProvider.Samples.Cluster;

/// <summary>
/// While it lives, prints how each silo's own view of one member changes (Active → Suspect… → Dead), as the silos
/// report it, with the time since <c>since</c>.
/// </summary>
internal sealed class LiveViews : IDisposable
{
    private readonly IReadOnlyList<SiloProcess> _silos;
    private readonly string _watched;
    private readonly DateTime _since;
    private readonly Dictionary<string, string?> _last = [];
    private readonly Lock _gate = new();

    private LiveViews(IReadOnlyList<SiloProcess> silos, string watched, DateTime since)
    {
        _silos = silos;
        _watched = watched;
        _since = since;
        foreach (var s in silos)
        {
            _last[s.Name] = s.StatusOf(watched);
            s.EventReceived += OnEvent;
        }
    }

    public static LiveViews Start(IReadOnlyList<SiloProcess> silos, string watched, DateTime since) => new(silos, watched, since);

    public void Dispose()
    {
        foreach (var s in _silos)
        {
            s.EventReceived -= OnEvent;
        }
    }

    private void OnEvent(SiloProcess silo, SiloEvent e, DateTime at)
    {
        if (e is not SiloEvent.View)
        {
            return;
        }

        var status = silo.StatusOf(_watched);
        lock (_gate)
        {
            if (_last[silo.Name] == status)
            {
                return;
            }

            _last[silo.Name] = status;
        }

        Console.WriteLine($"         +{(at - _since).TotalSeconds,5:0.0} s  {silo.Name}'s view: {_watched} is {status ?? "gone"}");
    }
}

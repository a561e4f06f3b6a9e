using Microsoft.Extensions.Options;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// Reports this silo's membership view on stdout (<c>@view</c> lines) every time it changes, from the moment the silo
/// is Active until it stops: the front end and the tests read each silo's own view this way, which is what "declared
/// dead in the others' views" means.
/// </summary>
internal sealed class SiloReporter(IClusterMembershipService membership, IOptions<SiloOptions> silo, SiloConsole console)
    : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloReporter), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => ReportAsync(_stop.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ReportAsync(CancellationToken cancellationToken)
    {
        var name = silo.Value.SiloName;
        var last = MembershipVersion.MinValue;
        try
        {
            Print(membership.CurrentSnapshot);
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(cancellationToken))
            {
                Print(snapshot);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }

        void Print(ClusterMembershipSnapshot snapshot)
        {
            if (snapshot.Version <= last)
            {
                return;
            }

            last = snapshot.Version;
            var members = new List<MemberView>();
            foreach (var (address, member) in snapshot.Members)
            {
                members.Add(new MemberView(address.ToParsableString(), string.IsNullOrEmpty(member.Name) ? "?" : member.Name, member.Status.ToString()));
            }

            console.Write(SiloEvent.FormatView(name, snapshot.Version.Value, members));
        }
    }
}

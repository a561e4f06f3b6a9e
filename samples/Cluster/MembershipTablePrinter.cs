using System.Globalization;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// Prints the membership table as the cluster stores it (read through Orleans' management grain, which refreshes it
/// from the table first): each silo's name, address, status and how long ago it last wrote IAmAlive.
/// </summary>
internal static class MembershipTablePrinter
{
    public static async Task PrintAsync(IGrainFactory grains, string indent = "  ")
    {
        MembershipEntry[] entries;
        try
        {
            entries = await grains.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: false).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or SiloUnavailableException or OperationCanceledException)
        {
            Console.WriteLine($"{indent}(membership table unavailable right now: {ex.GetType().Name})");
            return;
        }

        var now = DateTime.UtcNow;
        Console.WriteLine($"{indent}{"silo",-8} {"address",-28} {"status",-12} {"IAmAlive age",12}");
        foreach (var e in entries.OrderBy(e => e.SiloName, StringComparer.Ordinal).ThenBy(e => e.SiloAddress.Generation))
        {
            var age = (now - e.IAmAliveTime).TotalSeconds;
            var ageText = e.IAmAliveTime == default ? "-" : age.ToString("0.0", CultureInfo.InvariantCulture) + " s";
            Console.WriteLine($"{indent}{e.SiloName,-8} {e.SiloAddress.ToParsableString(),-28} {e.Status,-12} {ageText,12}");
        }
    }
}

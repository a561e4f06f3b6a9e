using Microsoft.Extensions.Hosting;

namespace CacheProvider.Bench.Reporting;

/// <summary>Ending the hosts a measurement started (linked source: bench/Shared).</summary>
internal static class Hosts
{
    /// <summary>Stops and disposes <paramref name="host"/>; a failing stop is reported as a comment line, never thrown.</summary>
    public static async Task StopAsync(IHost? host, string what)
    {
        if (host is null)
        {
            return;
        }

        try
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StopAsync(stop.Token);
        }
        catch (Exception ex)
        {
            Console.WriteLine($"# {what} stop: {Report.Describe(ex)}");
        }

        host.Dispose();
    }
}

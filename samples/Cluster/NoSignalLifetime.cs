using Microsoft.Extensions.Hosting;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// A host lifetime that leaves signals alone: this app handles SIGINT/SIGTERM itself and stops its hosts in order
/// (the default console lifetime would stop a host on its own, behind the app's back).
/// </summary>
internal sealed class NoSignalLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

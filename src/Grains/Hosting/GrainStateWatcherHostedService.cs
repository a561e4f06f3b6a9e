using Microsoft.Extensions.Hosting;

namespace CacheProvider.Grains;

/// <summary>Starts and stops a <see cref="GrainStateWatcher"/> with the host (the Orleans glue would use the silo lifecycle).</summary>
internal sealed class GrainStateWatcherHostedService(GrainStateWatcher watcher) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => watcher.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => watcher.StopAsync(cancellationToken);
}

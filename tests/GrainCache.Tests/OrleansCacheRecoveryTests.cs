using System.Globalization;
using System.Text;
using CacheProvider.Connection;
using Microsoft.Extensions.Caching.Distributed;
using NATS.Client.Core;

namespace CacheProvider.Grains.Caching.Tests;

/// <summary>
/// Issue #24 for the Orleans cache: 32 writers Set through the Orleans client while the nats-server under the silo is
/// killed with SIGKILL and restarted. The cache grains' state writes (compare-and-set by ETag) are resent after the
/// reconnect and resolved by re-reading, so no Set fails, none acknowledged is lost, and Sets succeed again soon after
/// the server is back.
/// </summary>
[Collection(CacheClusterCollection.Name)]
public sealed class OrleansCacheRecoveryTests(ITestOutputHelper output)
{
    private static readonly DistributedCacheEntryOptions FiveMinutes = new() { AbsoluteExpirationRelativeToNow = TimeSpan.FromMinutes(5) };

    [Fact]
    public async Task Sets_through_the_grains_survive_kill_9_and_restart_without_a_failure_or_a_lost_acknowledged_write()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = new NatsConnection(new NatsConnectionOptions { Url = server.Url }.ApplyTo(NatsOpts.Default));
        // File storage: a killed server keeps what it acknowledged (the other tests' memory bucket would be gone).
        await using var cluster = await CacheCluster.StartAsync(connection, configureStorage: o => o.Storage = CacheProvider.KeyValue.KvStorage.File);
        var cache = cluster.ClientCache;
        var prefix = Guid.NewGuid().ToString("N");
        await cache.SetAsync(prefix + "-warm", [1], FiveMinutes);

        var report = await RestartUnderLoad.RunAsync(server, 32, (w, n) =>
            cache.SetAsync($"{prefix}-{w}", Encoding.UTF8.GetBytes(n.ToString(CultureInfo.InvariantCulture)), FiveMinutes), output);

        Assert.Empty(report.Failures);
        Assert.True(report.FirstAckAfterBack < TimeSpan.FromSeconds(3), report.ToString());
        for (var w = 0; w < report.LastAcknowledged.Length; w++)
        {
            var stored = await cache.GetAsync($"{prefix}-{w}");
            Assert.NotNull(stored);
            Assert.Equal(report.LastAcknowledged[w], long.Parse(Encoding.UTF8.GetString(stored), CultureInfo.InvariantCulture));
        }
    }
}

using System.Globalization;
using CacheProvider.Connection;
using CacheProvider.Grains.Tests.Support;
using NATS.Client.Core;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Tests.Storage;

/// <summary>
/// Issue #24 for grain storage: 32 grains write their state (compare-and-set by ETag) while the server is killed with
/// SIGKILL and restarted. A write whose acknowledgement was lost is resent after the reconnect; if its first attempt had
/// landed, the resend's "wrong last sequence" is resolved by re-reading the revision, so no write fails and no ETag goes
/// stale (a stale ETag would make the grain's next write an <c>InconsistentStateException</c>).
/// </summary>
public sealed class StorageRecoveryTests(ITestOutputHelper output)
{
    [Fact]
    public async Task State_writes_under_load_survive_kill_9_and_restart_without_a_failure_a_stale_etag_or_a_lost_write()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        await using var connection = new NatsConnection(new NatsConnectionOptions { Url = host.Server.Url }.ApplyTo(NatsOpts.Default));
        var storage = host.CreateStorage(deleteStateOnClear: false, connection: connection);
        const int Grains = 32;
        var ids = Enumerable.Range(0, Grains).Select(_ => TestIds.RandomInteger()).ToArray();
        var states = ids.Select(_ => new GrainState<TestState1>(new TestState1())).ToArray();
        await storage.WriteStateAsync("s", ids[0], states[0]);

        var report = await RestartUnderLoad.RunAsync(host.Server, Grains, (g, n) =>
        {
            states[g].State!.A = n.ToString(CultureInfo.InvariantCulture);
            return storage.WriteStateAsync("s", ids[g], states[g]);
        }, output);

        Assert.Empty(report.Failures);
        Assert.True(report.FirstAckAfterBack < TimeSpan.FromSeconds(3), report.ToString());
        for (var g = 0; g < Grains; g++)
        {
            var read = new GrainState<TestState1>(new TestState1());
            await storage.ReadStateAsync("s", ids[g], read);
            Assert.Equal(states[g].ETag, read.ETag);
            Assert.Equal(report.LastAcknowledged[g], long.Parse(read.State!.A!, CultureInfo.InvariantCulture));
        }
    }
}

using System.Net;
using CacheProvider.Grains;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;

namespace CacheProvider.Clustering.Tests.Support;

/// <summary>Membership rows and tables for tests.</summary>
internal static class Rows
{
    private static int _generation = Random.Shared.Next(1_000, 1_000_000);

    /// <summary>A table of a fresh cluster (its own ClusterId) in <paramref name="bucket"/>.</summary>
    public static NatsMembershipTable NewTable(INatsConnection connection, string bucket = "orleans-cluster", string? clusterId = null, int replicas = 1, string serviceId = "svc") =>
        new(new NatsClusteringOptions { Bucket = bucket, Replicas = replicas, RemovedTombstoneTtl = TimeSpan.FromSeconds(5) },
            new ClusterOptions { ServiceId = serviceId, ClusterId = clusterId ?? "test-" + Guid.NewGuid().ToString("N") },
            connection);

    /// <summary>A new silo's row (port 12345, a new generation), Joining, times in whole seconds (UTC).</summary>
    public static MembershipEntry New(SiloStatus status = SiloStatus.Joining, DateTime? at = null)
    {
        var now = at ?? Truncate(DateTime.UtcNow);
        var silo = SiloAddress.New(IPAddress.Loopback, 12345, Interlocked.Increment(ref _generation));
        return new MembershipEntry
        {
            SiloAddress = silo,
            Status = status,
            HostName = "host-" + silo.Generation,
            SiloName = "silo-" + silo.Generation,
            RoleName = "role",
            ProxyPort = 0,
            UpdateZone = 1,
            FaultZone = 2,
            StartTime = now,
            IAmAliveTime = now,
            SuspectTimes = [],
        };
    }

    public static DateTime Truncate(DateTime time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc);

    /// <summary>Inserts <paramref name="entry"/> at the next version; asserts it is inserted.</summary>
    public static async Task<TableVersion> InsertAsync(NatsMembershipTable table, MembershipEntry entry)
    {
        var data = await table.ReadAllAsync();
        Assert.True(await table.InsertRowAsync(entry, data.Version.Next()));
        return data.Version.Next();
    }

    /// <summary>The same fields Orleans' own test compares.</summary>
    public static void AssertSame(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.HostName, actual.HostName);
        Assert.Equal(expected.SiloName, actual.SiloName);
        Assert.Equal(expected.RoleName, actual.RoleName);
        Assert.Equal(expected.ProxyPort, actual.ProxyPort);
        Assert.Equal(expected.UpdateZone, actual.UpdateZone);
        Assert.Equal(expected.FaultZone, actual.FaultZone);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.IAmAliveTime, actual.IAmAliveTime);
        Assert.Equal(expected.SuspectTimes?.Count ?? 0, actual.SuspectTimes?.Count ?? 0);
        for (var i = 0; i < (expected.SuspectTimes?.Count ?? 0); i++)
        {
            Assert.Equal(expected.SuspectTimes![i].Item1, actual.SuspectTimes![i].Item1);
            Assert.Equal(expected.SuspectTimes[i].Item2, actual.SuspectTimes[i].Item2);
        }
    }
}

using Orleans.Configuration;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// The <see cref="ClusterMembershipOptions"/> a silo runs with. <c>default</c> is Orleans' own (a killed silo is
/// declared dead after roughly 10–20 s); <c>fast</c> shortens probing so a demo or a test sees a death within seconds,
/// with timeouts still loose enough for a loaded 2-core machine.
/// </summary>
internal static class MembershipProfile
{
    public const string Default = "default";
    public const string Fast = "fast";

    public static bool IsKnown(string name) => name is Default or Fast;

    public static void Apply(string name, ClusterMembershipOptions options)
    {
        if (name != Fast)
        {
            return;
        }

        options.ProbeTimeout = TimeSpan.FromSeconds(2);
        options.NumMissedProbesLimit = 2;
        options.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(3);
        options.TableRefreshTimeout = TimeSpan.FromSeconds(5);
        options.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
        options.LocalHealthDegradationMonitoringPeriod = TimeSpan.FromSeconds(5);
    }

    /// <summary>One line for the console: what the profile means.</summary>
    public static string Describe(string name) => name == Fast
        ? "fast probing (ProbeTimeout 2 s, NumMissedProbesLimit 2, IAmAlive every 3 s, table refresh 5 s)"
        : "Orleans' default probing (ProbeTimeout 5 s, NumMissedProbesLimit 3, IAmAlive every 30 s)";
}

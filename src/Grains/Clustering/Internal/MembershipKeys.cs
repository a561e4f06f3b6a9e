using CacheProvider.Grains.Internal;
using Orleans.Runtime;

namespace CacheProvider.Grains.Clustering.Internal;

/// <summary>
/// Key layout of one cluster's membership table (every token encoded with <see cref="KeyEncoder"/>):
/// <c>m.&lt;service&gt;.&lt;cluster&gt;.v</c> the table version, <c>m.&lt;service&gt;.&lt;cluster&gt;.r.&lt;silo&gt;</c>
/// the silo rows (written together with the version in one atomic batch), and
/// <c>a.&lt;service&gt;.&lt;cluster&gt;.&lt;silo&gt;</c> the heartbeats (IAmAlive), outside the <c>m.</c> subtree so a
/// heartbeat changes neither the version nor a row.
/// </summary>
internal sealed class MembershipKeys
{
    public MembershipKeys(string serviceId, string clusterId)
    {
        var scope = KeyEncoder.EncodeToken(serviceId) + "." + KeyEncoder.EncodeToken(clusterId);
        TablePrefix = "m." + scope + ".";
        Version = TablePrefix + "v";
        RowPrefix = TablePrefix + "r.";
        AlivePrefix = "a." + scope + ".";
        TableFilter = TablePrefix + ">";
        AliveFilter = AlivePrefix + "*";
    }

    /// <summary>The version key.</summary>
    public string Version { get; }

    /// <summary>Everything under the table: version and rows.</summary>
    public string TableFilter { get; }

    /// <summary>Every heartbeat of the cluster.</summary>
    public string AliveFilter { get; }

    public string TablePrefix { get; }

    public string RowPrefix { get; }

    public string AlivePrefix { get; }

    public static string SiloToken(SiloAddress silo) => KeyEncoder.EncodeToken(silo.ToParsableString());

    public string Row(SiloAddress silo) => RowPrefix + SiloToken(silo);

    public string Alive(SiloAddress silo) => AlivePrefix + SiloToken(silo);
}

namespace CacheProvider.Samples.Cluster;

/// <summary>Where the silos keep membership and the grain directory.</summary>
internal enum ClusteringProvider
{
    /// <summary>CacheProvider's NATS membership table, gateway list and grain directory: NATS is the only dependency.</summary>
    Nats,

    /// <summary>Orleans' own Redis clustering and Redis grain directory (10.4.2): the peer the bench compares with.</summary>
    Redis,
}

namespace CacheProvider.Samples.Cluster;

/// <summary>The names the silos, the client and the grains share.</summary>
internal static class SampleNames
{
    public const string ServiceId = "cluster-sample";
    public const string DefaultClusterId = "demo";

    /// <summary>The NATS grain storage provider.</summary>
    public const string Storage = "nats";

    /// <summary>The persistent state of <see cref="CounterGrain"/>: the name its per-state TTL is keyed by.</summary>
    public const string CounterState = "counter";

    public const string StateBucket = "cluster-sample-state";
    public const string ReminderBucket = "cluster-sample-reminders";

    /// <summary>The reminder every counter registers on its first increment.</summary>
    public const string HeartbeatReminder = "heartbeat";

    /// <summary>How often the heartbeat reminder ticks (the silos allow periods down to 1 s).</summary>
    public static readonly TimeSpan HeartbeatPeriod = TimeSpan.FromSeconds(2);

    /// <summary>The counter state's TTL: every write renews it, so a counter left alone this long is gone.</summary>
    public static readonly TimeSpan CounterTtl = TimeSpan.FromMinutes(10);
}

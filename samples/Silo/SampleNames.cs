namespace CacheProvider.Samples.Silo;

/// <summary>The names the silo, the grains and the story share.</summary>
internal static class SampleNames
{
    /// <summary>The NATS grain storage provider (and its state watcher).</summary>
    public const string Storage = "nats";

    /// <summary>The persistent state of <see cref="CartGrain"/>: the name its per-state TTL is keyed by.</summary>
    public const string CartState = "cart";

    /// <summary>The reminder a cart registers on its first item.</summary>
    public const string NudgeReminder = "nudge";

    public const string StateBucket = "silo-sample-state";
    public const string ReminderBucket = "silo-sample-reminders";
    public const string ServiceId = "silo-sample";

    /// <summary>How often the nudge reminder ticks.</summary>
    public static readonly TimeSpan NudgePeriod = TimeSpan.FromSeconds(2);
}

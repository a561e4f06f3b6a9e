using System.ComponentModel.DataAnnotations;

namespace CacheProvider.Grains;

/// <summary>Settings of a <see cref="GrainStateWatcher"/>.</summary>
public sealed class GrainStateWatcherOptions
{
    /// <summary>Server heartbeat of the watch; a silent server is detected after three (then everyone gets a resync).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan IdleHeartbeat { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Delay before re-opening a watch that failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);
}

namespace CacheProvider.Grains.Contracts;

/// <summary>Mirror of <c>Orleans.ReminderEntry</c>.</summary>
public sealed class ReminderEntry
{
    /// <summary>Grain (primary key part 1).</summary>
    public GrainId GrainId { get; set; }

    /// <summary>Reminder name (primary key part 2).</summary>
    public string ReminderName { get; set; } = null!;

    /// <summary>First tick time (UTC).</summary>
    public DateTime StartAt { get; set; }

    /// <summary>Period.</summary>
    public TimeSpan Period { get; set; }

    /// <summary>ETag.</summary>
    public string? ETag { get; set; }

    /// <inheritdoc />
    public override string ToString() => $"<GrainId={GrainId} ReminderName={ReminderName} Period={Period} StartAt={StartAt:O} ETag={ETag}>";
}

namespace CacheProvider.Grains.Contracts;

/// <summary>Mirror of <c>Orleans.ReminderTableData</c>.</summary>
public sealed class ReminderTableData
{
    /// <summary>Copies the entries.</summary>
    public ReminderTableData(IEnumerable<ReminderEntry> list) => Reminders = new List<ReminderEntry>(list);

    /// <summary>One entry.</summary>
    public ReminderTableData(ReminderEntry entry) => Reminders = new List<ReminderEntry> { entry };

    /// <summary>Empty.</summary>
    public ReminderTableData() => Reminders = new List<ReminderEntry>();

    /// <summary>The rows.</summary>
    public IList<ReminderEntry> Reminders { get; private set; }

    /// <inheritdoc />
    public override string ToString() => $"{Reminders.Count} reminders";
}

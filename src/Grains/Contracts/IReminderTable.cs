namespace CacheProvider.Grains.Contracts;

/// <summary>Mirror of <c>Orleans.IReminderTable</c> (v10).</summary>
public interface IReminderTable
{
    /// <summary>Initializes the table (the runtime gives it <c>ReminderOptions.InitializationTimeout</c>).</summary>
    Task StartAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <summary>Every reminder of a grain (empty, never null).</summary>
    Task<ReminderTableData> ReadRows(GrainId grainId);

    /// <summary>
    /// Rows whose <see cref="GrainId.GetUniformHashCode"/> is in (begin, end]; when begin &gt;= end, rows with hash
    /// &gt; begin or &lt;= end (so (0,0) is the whole table). Unsigned comparisons.
    /// </summary>
    Task<ReminderTableData> ReadRows(uint begin, uint end);

    /// <summary>One reminder with its current ETag, or null.</summary>
    Task<ReminderEntry?> ReadRow(GrainId grainId, string reminderName);

    /// <summary>Inserts or replaces unconditionally.</summary>
    /// <returns>The row's new, unique ETag.</returns>
    Task<string?> UpsertRow(ReminderEntry entry);

    /// <summary>Removes the row if it exists with that ETag.</summary>
    /// <returns>True if removed; false on a missing row or ETag mismatch (never an exception for those).</returns>
    Task<bool> RemoveRow(GrainId grainId, string reminderName, string eTag);

    /// <summary>Deletes every row of this service (tests).</summary>
    Task TestOnlyClearTable();

    /// <summary>Stops the table.</summary>
    Task StopAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;
}

namespace CacheProvider.Samples.Expiry;

/// <summary>
/// Names of what the demo creates. On its own server they are plain; on a server given with --url they get a
/// random suffix so the demo cannot collide with (or overwrite) anything that already lives there.
/// </summary>
internal sealed record DemoNames(string Stream, string SubjectPrefix, string Bucket, bool Shared)
{
    public static DemoNames Create(bool sharedServer)
    {
        if (!sharedServer)
        {
            return new DemoNames("DEMO_TTL", "demo", "demo_cache", Shared: false);
        }

        var suffix = Guid.NewGuid().ToString("N")[..6];
        return new DemoNames($"DEMO_TTL_{suffix}", $"demo_{suffix}", $"demo_cache_{suffix}", Shared: true);
    }

    /// <summary>
    /// Removes what the demo created on a shared server (its own server is deleted whole). Best effort: a few
    /// seconds at most, and a failure is only reported, so it cannot hide the demo's real outcome.
    /// </summary>
    public async Task CleanupAsync(Func<Task> cleanup)
    {
        if (!Shared)
        {
            return;
        }

        try
        {
            await cleanup().WaitAsync(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            Console.Error.WriteLine($"note: clean-up skipped ({ex.GetType().Name}: {ex.Message})");
        }
    }
}

namespace CacheProvider.Hybrid.Tests;

/// <summary>Waits for a condition that becomes true asynchronously (a watch event, a background L2 write).</summary>
internal static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails (naming <paramref name="what"/>) after a generous 15 s.</summary>
    public static Task TrueAsync(Func<Task<bool>> condition, string what) => TrueAsync(condition, () => what);

    /// <summary>As above; <paramref name="what"/> is asked only on failure (it may describe the state then).</summary>
    public static async Task TrueAsync(Func<Task<bool>> condition, Func<string> what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"Never happened: {what()}");
            }

            await Task.Delay(20);
        }
    }
}

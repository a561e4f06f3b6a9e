namespace CacheProvider.Samples.Expiry;

/// <summary>One observed expiry: what it was, when it was due, and when the server's marker says it happened.</summary>
internal sealed record ExpiryResult(string Part, string Name, TimeSpan Ttl, string TtlSource, string Reason, DateTimeOffset Deadline, DateTimeOffset MarkerAt)
{
    public TimeSpan Lateness => MarkerAt - Deadline;
}

/// <summary>
/// Keeps the deadlines a walkthrough expects, matches arriving markers to them and decides how long to keep
/// waiting: an expiry that has not shown up <see cref="Grace"/> after its deadline is a failure, not a delay.
/// </summary>
internal sealed class ExpiryTracker(string part)
{
    /// <summary>The server sweeps about every 250 ms; five seconds late means it did not expire at all.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private readonly Dictionary<string, (TimeSpan Ttl, string Source, DateTimeOffset Deadline)> _pending = new(StringComparer.Ordinal);
    private readonly List<ExpiryResult> _results = [];

    public IReadOnlyList<ExpiryResult> Results => _results;

    public bool AllArrived => _pending.Count == 0;

    public int PendingCount => _pending.Count;

    public void Expect(string name, TimeSpan ttl, string source, DateTimeOffset deadline) => _pending[name] = (ttl, source, deadline);

    /// <summary>Records a marker for <paramref name="name"/>; a marker nobody expected, or an early one, fails the demo.</summary>
    public ExpiryResult Arrived(string name, string reason, DateTimeOffset markerAt)
    {
        if (!_pending.Remove(name, out var expected))
        {
            throw new DemoFailedException($"{part}: an expiry marker arrived for '{name}', which was not expected to expire (yet)");
        }

        var result = new ExpiryResult(part, name, expected.Ttl, expected.Source, reason, expected.Deadline, markerAt);
        if (result.Lateness < TimeSpan.Zero)
        {
            throw new DemoFailedException($"{part}: '{name}' expired {-result.Lateness.TotalMilliseconds:0} ms BEFORE its deadline; the server should never expire early");
        }

        _results.Add(result);
        return result;
    }

    /// <summary>How long to wait for the next marker: until the earliest outstanding deadline plus the grace period.</summary>
    public TimeSpan WaitBudget(DateTimeOffset now) =>
        _pending.Count == 0 ? TimeSpan.Zero : _pending.Values.Min(p => p.Deadline) + Grace - now;

    /// <summary>The failure to report when <see cref="WaitBudget"/> ran out.</summary>
    public DemoFailedException Overdue(DateTimeOffset now, Report report)
    {
        var late = _pending
            .Where(p => p.Value.Deadline + Grace <= now)
            .Select(p => $"'{p.Key}' (TTL {Report.Seconds(p.Value.Ttl)}, deadline {report.Rel(p.Value.Deadline)})");
        return new DemoFailedException($"{part}: no expiry marker within {Report.Seconds(Grace)} after the deadline for {string.Join(", ", late)}");
    }
}

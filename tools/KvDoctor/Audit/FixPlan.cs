using NATS.Client.JetStream.Models;

namespace CacheProvider.KvDoctor.Audit;

/// <summary>The changes <c>fix</c> makes to one bucket.</summary>
/// <param name="Bucket">Bucket.</param>
/// <param name="Current">Current stream configuration.</param>
/// <param name="Updated">New configuration, or null when the configuration stays.</param>
/// <param name="Diff">Human-readable diff lines (<c>- old</c> / <c>+ new</c> / <c>~ action</c>).</param>
/// <param name="PurgeTombstones">Whether to purge tombstones.</param>
/// <param name="Manual">Findings that need a person (their fix text).</param>
internal sealed record FixPlan(string Bucket, StreamConfig Current, StreamConfig? Updated, IReadOnlyList<string> Diff, bool PurgeTombstones, IReadOnlyList<string> Manual)
{
    /// <summary>True when there is something to apply.</summary>
    public bool HasChanges => Updated is not null || PurgeTombstones;
}

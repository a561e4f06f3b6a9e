using System.ComponentModel.DataAnnotations;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.KeyValue;
using Orleans;

namespace CacheProvider.Grains;

/// <summary>Settings of one <see cref="NatsGrainStorage"/> (named after its provider name).</summary>
public sealed class NatsGrainStorageOptions : IStorageProviderSerializerOptions
{
    /// <summary>
    /// The first key token, so services sharing a bucket never see each other's state. Left empty, the silo's
    /// Orleans <c>ClusterOptions.ServiceId</c> (the provider's own cluster options, if configured) is used.
    /// </summary>
    public string ServiceId { get; set; } = string.Empty;

    /// <summary>The silo lifecycle stage at which the provider binds (or creates) its bucket.</summary>
    public int InitStage { get; set; } = ServiceLifecycleStage.ApplicationServices;

    /// <summary>KV bucket (created with history 1 and limit markers when missing).</summary>
    [Required]
    [RegularExpression("^[A-Za-z0-9_-]+$")]
    public string Bucket { get; set; } = "orleans-grain-state";

    /// <summary>Where the bucket keeps data.</summary>
    public KvStorage Storage { get; set; } = KvStorage.File;

    /// <summary>Bucket replicas (1, 3 or 5).</summary>
    [Range(1, 5)]
    public int Replicas { get; set; } = 1;

    /// <summary>How long the server's expiry marker stays (≥ 1 s); watchers see expirations through it.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan LimitMarkerTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// true: clear removes the record (purge with a self-expiring tombstone), ETag becomes null.
    /// false (Orleans' Redis default): clear leaves a tombstone with a new ETag that the next write must present.
    /// </summary>
    public bool DeleteStateOnClear { get; set; }

    /// <summary>TTL of the purge tombstone a delete-on-clear leaves (it removes itself, no permanent delete map entry).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan DeleteTombstoneTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>TTL for every state without a more specific one; null = states live until cleared.</summary>
    public TimeSpan? DefaultStateTtl { get; set; }

    /// <summary>TTL per state name (<c>"state"</c> for <c>Grain&lt;T&gt;</c>, else the <c>[PersistentState]</c> name). Wins over <see cref="StateTtlAttribute"/>.</summary>
    public Dictionary<string, TimeSpan> StateTtls { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Keep a state alive while it is read: a read renews the TTL, but only when less than the TTL remains. Writes then
    /// store TTL × (1 + <see cref="RenewalFraction"/>), so a key is renewed at most once per fraction of its TTL.
    /// A renewal is a compare-and-set write: it gives the state a new ETag, which the read returns.
    /// </summary>
    public bool RefreshTtlOnRead { get; set; }

    /// <summary>The fraction of the TTL between two renewals of one key (0.01–1).</summary>
    [Range(0.01, 1.0)]
    public double RenewalFraction { get; set; } = 0.25;

    /// <summary>Direct (any replica, fastest) or Leader (read-your-writes across replicas) reads.</summary>
    public KvReadMode ReadMode { get; set; } = KvReadMode.Direct;

    /// <summary>
    /// Serializer. Left null, the provider uses an <see cref="IGrainStorageSerializer"/> registered keyed by the
    /// provider name, else an unkeyed one, else <see cref="NatsJsonGrainStorageSerializer"/> (System.Text.Json).
    /// </summary>
    public IGrainStorageSerializer GrainStorageSerializer { get; set; } = null!;

    /// <summary>
    /// Which activations the storage deactivates when a state they read from it expires (the server's TTL marker), is
    /// removed, or is written by someone else (another silo, another activation, a tool) — not by the activation itself.
    /// <see cref="StateChangeDeactivation.Auto"/> (default): states that can expire. No grain code is needed: the read
    /// registers the activation (before it returns, so nothing that happens after the read is missed) and its
    /// deactivation ends the registration. The <c>DeactivationReason</c> (<c>ApplicationRequested</c>) names the state,
    /// what happened and the revision. Per state: <see cref="DeactivateOnStateChangeByState"/>,
    /// <see cref="DeactivateOnStateChangeAttribute"/>; per grain class: <see cref="KeepActivationOnStateChangeAttribute"/>;
    /// to act first: <see cref="IGrainStateChangeParticipant"/>.
    /// </summary>
    public StateChangeDeactivation DeactivateOnStateChange { get; set; } = StateChangeDeactivation.Auto;

    /// <summary>
    /// Per state name (<c>"state"</c> for <c>Grain&lt;T&gt;</c>, else the <c>[PersistentState]</c> name): true or false
    /// for deactivation on a change, whatever <see cref="DeactivateOnStateChange"/> and <see cref="DeactivateOnStateChangeAttribute"/> say.
    /// </summary>
    public Dictionary<string, bool> DeactivateOnStateChangeByState { get; } = new(StringComparer.Ordinal);

    /// <summary>The storage's watch of its keys (heartbeat, retry delay), used for deactivation on a change.</summary>
    public GrainStateWatcherOptions Watch { get; set; } = new();

    /// <summary>Service key of a keyed NATS.Net <c>INatsConnection</c>; null = the unkeyed one.</summary>
    public string? ConnectionServiceKey { get; set; }
}

using System.Text.Json.Serialization;

namespace CacheProvider.Grains.Internal;

/// <summary>The stored value of a reminder row. Times as ticks, so StartAt and Period round-trip exactly.</summary>
internal sealed class ReminderRecord
{
    [JsonPropertyName("t")]
    public string GrainType { get; set; } = string.Empty;

    [JsonPropertyName("k")]
    public string GrainKey { get; set; } = string.Empty;

    [JsonPropertyName("n")]
    public string Name { get; set; } = string.Empty;

    [JsonPropertyName("s")]
    public long StartAtTicks { get; set; }

    [JsonPropertyName("p")]
    public long PeriodTicks { get; set; }
}

/// <summary>Source-generated JSON for <see cref="ReminderRecord"/> (no reflection on the hot path).</summary>
[JsonSerializable(typeof(ReminderRecord))]
internal sealed partial class ReminderJsonContext : JsonSerializerContext;

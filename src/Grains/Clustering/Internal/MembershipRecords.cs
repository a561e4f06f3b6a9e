using System.Text.Json;
using Orleans;

namespace CacheProvider.Grains.Clustering.Internal;

/// <summary>
/// The payload of the version key: the table version, and the id of the write that set it, by which a writer whose
/// commit got no reply recognises its own write.
/// </summary>
internal sealed record VersionRecord(int Version, string WriteId);

/// <summary>JSON forms of the version, the rows (Orleans' <see cref="MembershipEntry"/> as System.Text.Json writes it) and heartbeats.</summary>
internal static class MembershipRecords
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General);

    public static byte[] Serialize(VersionRecord version) => JsonSerializer.SerializeToUtf8Bytes(version, Json);

    public static VersionRecord ParseVersion(ReadOnlyMemory<byte> value) =>
        JsonSerializer.Deserialize<VersionRecord>(value.Span, Json) ?? throw new InvalidDataException("The membership version key is empty");

    public static byte[] Serialize(MembershipEntry entry) => JsonSerializer.SerializeToUtf8Bytes(entry, Json);

    public static MembershipEntry ParseRow(ReadOnlyMemory<byte> value) =>
        JsonSerializer.Deserialize<MembershipEntry>(value.Span, Json) ?? throw new InvalidDataException("A membership row is empty");

    public static byte[] SerializeAlive(DateTime iAmAliveTime) => JsonSerializer.SerializeToUtf8Bytes(iAmAliveTime.ToUniversalTime(), Json);

    public static DateTime ParseAlive(ReadOnlyMemory<byte> value) => JsonSerializer.Deserialize<DateTime>(value.Span, Json);
}

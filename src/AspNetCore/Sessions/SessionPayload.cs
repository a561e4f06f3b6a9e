using System.Buffers.Binary;
using System.Text;

namespace CacheProvider.Sessions;

/// <summary>
/// The stored form of one session: <c>[1][id: 16 bytes][count: int32]</c> then per entry
/// <c>[key length: uint16][key UTF-8][value length: int32][value]</c>, all big-endian.
/// </summary>
internal static class SessionPayload
{
    private const byte Version = 1;

    /// <summary>Serializes a session into one exactly sized array (measured first: no growing buffer, no final copy).</summary>
    public static byte[] Write(Guid id, IReadOnlyDictionary<string, byte[]> values)
    {
        var size = 21;
        foreach (var (key, value) in values)
        {
            var keyBytes = Encoding.UTF8.GetByteCount(key);
            if (keyBytes > ushort.MaxValue)
            {
                throw new ArgumentOutOfRangeException(nameof(values), "A session key is longer than 65535 bytes.");
            }

            size = checked(size + 6 + keyBytes + value.Length);
        }

        var payload = new byte[size];
        var span = payload.AsSpan();
        span[0] = Version;
        id.TryWriteBytes(span.Slice(1, 16), bigEndian: true, out _);
        BinaryPrimitives.WriteInt32BigEndian(span.Slice(17, 4), values.Count);
        var pos = 21;
        foreach (var (key, value) in values)
        {
            var keyBytes = Encoding.UTF8.GetBytes(key, span[(pos + 2)..]);
            BinaryPrimitives.WriteUInt16BigEndian(span[pos..], (ushort)keyBytes);
            pos += 2 + keyBytes;
            BinaryPrimitives.WriteInt32BigEndian(span[pos..], value.Length);
            value.CopyTo(span[(pos + 4)..]);
            pos += 4 + value.Length;
        }

        return payload;
    }

    /// <summary>Reads a payload; false when it is not one of ours (then the session starts empty).</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out Guid id, out Dictionary<string, byte[]> values)
    {
        values = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        id = Guid.Empty;
        if (data.Length < 21 || data[0] != Version)
        {
            return false;
        }

        id = new Guid(data.Slice(1, 16), bigEndian: true);
        var count = BinaryPrimitives.ReadInt32BigEndian(data.Slice(17, 4));
        var pos = 21;
        for (var i = 0; i < count; i++)
        {
            if (data.Length - pos < 2)
            {
                return false;
            }

            int keyLength = BinaryPrimitives.ReadUInt16BigEndian(data[pos..]);
            pos += 2;
            if (data.Length - pos < keyLength + 4)
            {
                return false;
            }

            var key = Encoding.UTF8.GetString(data.Slice(pos, keyLength));
            pos += keyLength;
            var valueLength = BinaryPrimitives.ReadInt32BigEndian(data[pos..]);
            pos += 4;
            if (valueLength < 0 || data.Length - pos < valueLength)
            {
                return false;
            }

            values[key] = data.Slice(pos, valueLength).ToArray();
            pos += valueLength;
        }

        return pos == data.Length;
    }
}

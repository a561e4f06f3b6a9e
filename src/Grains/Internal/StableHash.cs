using System.Buffers.Binary;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// Orleans' <c>StableHash.ComputeHash</c>: <c>XxHash32.TryHash</c> writes the hash big-endian and Orleans reads the
/// four bytes as a little-endian <c>uint</c>, so the value is the byte-reversed XXH32 on every platform.
/// </summary>
internal static class StableHash
{
    /// <summary>The stable hash of <paramref name="data"/>.</summary>
    public static uint ComputeHash(ReadOnlySpan<byte> data) => BinaryPrimitives.ReverseEndianness(XxHash32.Hash(data));
}

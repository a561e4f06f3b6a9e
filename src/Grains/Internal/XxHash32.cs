using System.Buffers.Binary;
using System.Numerics;

namespace CacheProvider.Grains.Internal;

/// <summary>XXH32 (xxHash, 32-bit), as specified by Yann Collet; returns the canonical numeric value.</summary>
internal static class XxHash32
{
    private const uint Prime1 = 2654435761U;
    private const uint Prime2 = 2246822519U;
    private const uint Prime3 = 3266489917U;
    private const uint Prime4 = 668265263U;
    private const uint Prime5 = 374761393U;

    /// <summary>Hashes <paramref name="data"/> with <paramref name="seed"/>.</summary>
    public static uint Hash(ReadOnlySpan<byte> data, uint seed = 0)
    {
        var length = data.Length;
        uint acc;
        if (length >= 16)
        {
            var v1 = unchecked(seed + Prime1 + Prime2);
            var v2 = unchecked(seed + Prime2);
            var v3 = seed;
            var v4 = unchecked(seed - Prime1);
            while (data.Length >= 16)
            {
                v1 = Round(v1, BinaryPrimitives.ReadUInt32LittleEndian(data));
                v2 = Round(v2, BinaryPrimitives.ReadUInt32LittleEndian(data[4..]));
                v3 = Round(v3, BinaryPrimitives.ReadUInt32LittleEndian(data[8..]));
                v4 = Round(v4, BinaryPrimitives.ReadUInt32LittleEndian(data[12..]));
                data = data[16..];
            }

            acc = unchecked(BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18));
        }
        else
        {
            acc = unchecked(seed + Prime5);
        }

        acc = unchecked(acc + (uint)length);
        while (data.Length >= 4)
        {
            acc = unchecked(BitOperations.RotateLeft(acc + (BinaryPrimitives.ReadUInt32LittleEndian(data) * Prime3), 17) * Prime4);
            data = data[4..];
        }

        foreach (var b in data)
        {
            acc = unchecked(BitOperations.RotateLeft(acc + (b * Prime5), 11) * Prime1);
        }

        acc ^= acc >> 15;
        acc = unchecked(acc * Prime2);
        acc ^= acc >> 13;
        acc = unchecked(acc * Prime3);
        acc ^= acc >> 16;
        return acc;
    }

    private static uint Round(uint acc, uint lane) => unchecked(BitOperations.RotateLeft(acc + (lane * Prime2), 13) * Prime1);
}

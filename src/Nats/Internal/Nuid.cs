using System.Security.Cryptography;

namespace CacheProvider.Nats.Internal;

/// <summary>Unique tokens for inboxes: 22 random base-62 characters (≈ 131 bits).</summary>
internal static class Nuid
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string Next() => string.Create(22, 0, static (span, _) =>
    {
        Span<byte> random = stackalloc byte[22];
        RandomNumberGenerator.Fill(random);
        for (var i = 0; i < span.Length; i++)
        {
            span[i] = Alphabet[random[i] % 62];
        }
    });
}

using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace CacheProvider.Leases;

/// <summary>
/// What a lease key holds: <c>&lt;nonce&gt; &lt;owner&gt;</c> in UTF-8. The nonce is new for every acquisition, so a
/// holder can recognise its own write when an acknowledgement was lost (a renewal or create that reached the
/// server although the client timed out) instead of declaring the lease lost.
/// </summary>
internal static class LeaseValue
{
    public static string NewNonce() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));

    public static byte[] Encode(string nonce, string owner) => Encoding.UTF8.GetBytes(nonce + " " + owner);

    public static bool HasNonce(ReadOnlySpan<byte> value, string nonce)
    {
        Span<byte> expected = stackalloc byte[64];
        var length = Encoding.UTF8.GetBytes(nonce, expected);
        return value.Length > length && value[length] == (byte)' ' && value[..length].SequenceEqual(expected[..length]);
    }

    public static string Owner(ReadOnlySpan<byte> value)
    {
        var space = value.IndexOf((byte)' ');
        return space < 0 ? Encoding.UTF8.GetString(value) : Encoding.UTF8.GetString(value[(space + 1)..]);
    }
}

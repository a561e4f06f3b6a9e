using System.Text;
using NATS.Client.Core;

namespace CacheProvider.Cluster.Tests;

/// <summary>Helpers shared by the cluster tests.</summary>
internal static class ClusterTest
{
    /// <summary>Upper bound for one wait: elections take seconds; CI boxes are slow.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>A connection seeded with every node (it learns them from INFO anyway).</summary>
    public static NatsConnection Connect(NatsCluster cluster, string? url = null) => new(TestNats.Options(url ?? cluster.Urls) with
    {
        RequestTimeout = TimeSpan.FromSeconds(5), // R3 stream creation can take seconds with four clusters on a small box
        ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
        ReconnectWaitMax = TimeSpan.FromMilliseconds(500),
    });

    public static ReadOnlyMemory<byte> Bytes(string s) => Encoding.UTF8.GetBytes(s);

    public static string Text(ReadOnlyMemory<byte> b) => Encoding.UTF8.GetString(b.Span);

    /// <summary>Polls until <paramref name="condition"/> holds; fails after <see cref="Patience"/>.</summary>
    public static async Task EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Patience);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out waiting for: {what}");
            }

            await Task.Delay(50);
        }
    }
}

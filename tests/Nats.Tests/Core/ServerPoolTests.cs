using CacheProvider.Nats.Internal;

namespace CacheProvider.Nats.Tests.Core;

/// <summary>The reconnect pool: what INFO's connect_urls may add to it, and when refused credentials end reconnecting.</summary>
public sealed class ServerPoolTests
{
    [Fact]
    public void Garbled_connect_urls_entries_are_ignored_with_a_log_line()
    {
        var logs = new CapturingLoggerFactory();
        var pool = new ServerPool(NatsUri.ParseList("nats://127.0.0.1:4222"), logs.CreateLogger("pool"));

        pool.AddDiscovered(
        [
            "127.0.0.1:4223", "[::1]:4224", "nats-2.example.com:4225",
            "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:42a", "127.0.0.1:", "127.0.0.1",
            "nats://127.0.0.1:4227", "127.0.0.1:4228/path", "127.0.0.1:4229?x=1",
            "", "  ", "host name:4222", "::1:4230", "[not-ip]:4231", "ho\u0000st:4232", new string('a', 300) + ":4233",
        ]);
        pool.AddDiscovered(["evil:Pw-S3cret@127.0.0.1:4226"]);

        Assert.Equal(
            ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223", "nats://::1:4224", "nats://nats-2.example.com:4225"],
            pool.Order(-1).Select(u => u.ToString()).Order(StringComparer.Ordinal));
        Assert.Contains("Ignored 16 invalid connect_urls entries", logs.Text, StringComparison.Ordinal);
        Assert.Contains("Ignored 1 invalid connect_urls entries", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cret", logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_urls_are_capped()
    {
        var logs = new CapturingLoggerFactory();
        var pool = new ServerPool(NatsUri.ParseList("nats://127.0.0.1:4222"), logs.CreateLogger("pool"));
        var many = Enumerable.Range(10_000, 5_000).Select(p => $"127.0.0.1:{p}").ToArray();

        pool.AddDiscovered(many);
        pool.AddDiscovered(many.Reverse().ToArray());

        Assert.Equal(1 + ServerPool.MaxDiscovered, pool.Count);
        Assert.Contains("beyond the limit", logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_server_leaves_the_reconnect_order_after_refusing_the_credentials_twice_in_a_row()
    {
        var pool = new ServerPool(NatsUri.ParseList("nats://127.0.0.1:4222,nats://127.0.0.1:4223"));
        var (a, b) = (pool.Order(-1)[0], pool.Order(-1)[1]);

        pool.Failed(a, credentialsRefused: true);
        pool.Failed(a, credentialsRefused: false); // unreachable in between: the run of refusals starts over
        pool.Failed(a, credentialsRefused: true);
        Assert.Equal(2, pool.Order(-1).Count);
        Assert.False(pool.AnyRefusedCredentials);

        pool.Failed(a, credentialsRefused: true);
        Assert.Equal([b], pool.Order(-1));
        Assert.True(pool.AnyRefusedCredentials);

        pool.Failed(b, credentialsRefused: true);
        pool.Failed(b, credentialsRefused: true);
        Assert.Empty(pool.Order(-1));

        // Connecting anywhere starts a new count for every server.
        pool.Succeeded(b);
        Assert.Equal(2, pool.Order(-1).Count);
        Assert.False(pool.AnyRefusedCredentials);
    }
}

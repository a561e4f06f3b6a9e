using System.Text;
using CacheProvider.KeyValue;
using CacheProvider.Tokens;
using NATS.Client.Core;

namespace CacheProvider.Tests.Tokens;

public sealed class TokenTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Token_is_consumed_once_and_carries_its_payload()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        var tokens = new OneTimeTokenStore(connection, new OneTimeTokenOptions());
        var issued = await tokens.IssueAsync("password-reset", "user:42"u8.ToArray(), TimeSpan.FromMinutes(10));
        Assert.Equal(43, issued.Token.Length);
        Assert.DoesNotContain(issued.Token, issued.ToString(), StringComparison.Ordinal);

        var consumed = await tokens.ConsumeAsync("password-reset", issued.Token);
        Assert.NotNull(consumed);
        Assert.Equal("user:42", Encoding.UTF8.GetString(consumed.Payload.Span));
        Assert.Null(await tokens.ConsumeAsync("password-reset", issued.Token));

        // Another purpose never matches.
        var other = await tokens.IssueAsync("pairing", default);
        Assert.Null(await tokens.ConsumeAsync("password-reset", other.Token));
        Assert.NotNull(await tokens.ConsumeAsync("pairing", other.Token));
    }

    [Fact]
    public async Task Concurrent_consumers_exactly_one_wins()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var c1 = await server.ConnectAsync();
        await using var c2 = await server.ConnectAsync();
        var stores = new[] { new OneTimeTokenStore(c1, new OneTimeTokenOptions()), new OneTimeTokenStore(c2, new OneTimeTokenOptions()) };
        for (var round = 0; round < 20; round++)
        {
            var issued = await stores[0].IssueAsync("reset", Encoding.UTF8.GetBytes($"round {round}"));
            using var start = new ManualResetEventSlim();
            var consumers = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                start.Wait();
                return await stores[i % 2].ConsumeAsync("reset", issued.Token);
            })).ToArray();
            start.Set();
            var results = await Task.WhenAll(consumers);
            var winners = results.Where(r => r is not null).ToList();
            Assert.Single(winners);
            Assert.Equal($"round {round}", Encoding.UTF8.GetString(winners[0]!.Payload.Span));
        }
    }

    [Fact]
    public async Task Expired_token_is_simply_not_found_and_consumed_tokens_leave_nothing()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        var tokens = new OneTimeTokenStore(connection, new OneTimeTokenOptions());
        var shortLived = await tokens.IssueAsync("login-code", "x"u8.ToArray(), TimeSpan.FromSeconds(1));
        var used = await tokens.IssueAsync("login-code", "y"u8.ToArray());
        Assert.NotNull(await tokens.ConsumeAsync("login-code", used.Token));
        await Task.Delay(1200);
        Assert.Null(await tokens.ConsumeAsync("login-code", shortLived.Token));
        Assert.False(await tokens.RevokeAsync("login-code", shortLived.Token));

        // Expiry marker and consume tombstone both remove themselves.
        var kv = new KvContext(connection);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var status = await kv.GetStatusAsync("tokens");
        while (status.Values > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
            status = await kv.GetStatusAsync("tokens");
        }

        Assert.Equal(0UL, status.Values);
    }

    [Fact]
    public async Task Caller_chosen_tokens_are_create_only_and_names_needing_encoding_work()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = await server.ConnectAsync();
        var tokens = new OneTimeTokenStore(connection, new OneTimeTokenOptions());
        Assert.NotNull(await tokens.TryIssueAsync("tv pairing", "482 913", "tv-1"u8.ToArray(), TimeSpan.FromMinutes(5)));
        Assert.Null(await tokens.TryIssueAsync("tv pairing", "482 913", "tv-2"u8.ToArray(), TimeSpan.FromMinutes(5)));
        Assert.True(await tokens.RevokeAsync("tv pairing", "482 913"));
        Assert.NotNull(await tokens.TryIssueAsync("tv pairing", "482 913", "tv-3"u8.ToArray(), TimeSpan.FromMinutes(5)));
        var consumed = await tokens.ConsumeAsync("tv pairing", "482 913");
        Assert.Equal("tv-3", Encoding.UTF8.GetString(consumed!.Payload.Span));
        Assert.NotNull(await tokens.TryIssueAsync("e-mail/ü", "a.b*c>", default));
        Assert.Null(await tokens.ConsumeAsync("e-mail/ü", "a.b*c"));
        Assert.NotNull(await tokens.ConsumeAsync("e-mail/ü", "a.b*c>"));
    }

    [Fact]
    public async Task Bad_input_throws_typed_exceptions()
    {
        await using var connection = new NatsConnection(TestNats.Options($"nats://127.0.0.1:{NatsServer.FreePort()}"));
        var tokens = new OneTimeTokenStore(connection, new OneTimeTokenOptions { MaxPayloadBytes = 4 });
        await Assert.ThrowsAsync<ArgumentException>(() => tokens.IssueAsync("", default));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => tokens.IssueAsync("p", default, TimeSpan.FromMilliseconds(500)));
        await Assert.ThrowsAsync<ArgumentException>(() => tokens.IssueAsync("p", new byte[5]));
        await Assert.ThrowsAsync<ArgumentException>(() => tokens.ConsumeAsync("p", ""));
        await Assert.ThrowsAsync<ArgumentNullException>(() => tokens.ConsumeAsync(null!, "t"));
        Assert.Throws<ArgumentException>(() => new OneTimeTokenStore(connection, new OneTimeTokenOptions { TokenBytes = 8 }));
    }
}

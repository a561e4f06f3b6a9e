namespace CacheProvider.Nats.Tests.Core;

public sealed class UrlAndOptionsTests(ITestOutputHelper output)
{
    private const string Secret = "Sup3r-S3cret";

    [Fact]
    public async Task Url_without_scheme_connects_as_plain_nats()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options($"127.0.0.1:{server.Port}"));

        await nats.ConnectAsync().Within();

        Assert.Equal(server.Url, nats.ConnectedServer);
    }

    [Fact]
    public async Task Dead_first_seed_is_skipped_and_the_next_seed_is_used()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        var dead = NatsServer.FreePort();
        await using var nats = new NatsConnection(Test.Options($" nats://127.0.0.1:{dead} , {server.Url} "));

        await nats.ConnectAsync().Within();

        Assert.Equal(server.Url, nats.ConnectedServer);
    }

    [Fact]
    public async Task Unreachable_servers_fail_with_connection_exception_that_hides_url_credentials()
    {
        var dead = NatsServer.FreePort();
        var logs = new CapturingLoggerFactory();
        await using var nats = new NatsConnection(Test.Options($"nats://alice:{Secret}@127.0.0.1:{dead}", logs));

        var error = await Assert.ThrowsAsync<NatsConnectionException>(() => nats.ConnectAsync().Within());

        Assert.IsNotType<NatsAuthorizationException>(error);
        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, logs.Text, StringComparison.Ordinal);
        Assert.Equal(NatsConnectionState.New, nats.State);
    }

    [Fact]
    public async Task Connection_can_be_retried_after_the_server_comes_up()
    {
        var port = NatsServer.FreePort();
        await using var nats = new NatsConnection(Test.Options($"nats://127.0.0.1:{port}"));
        await Assert.ThrowsAsync<NatsConnectionException>(() => nats.ConnectAsync().Within());

        await using var server = await NatsServer.StartAsync(output, jetStream: false, port: port);
        await nats.ConnectAsync().Within();

        Assert.Equal(NatsConnectionState.Connected, nats.State);
    }

    [Theory]
    [InlineData($"nats://alice:{Secret}@127.0.0.1:4222")]
    [InlineData($"nats://{Secret}@127.0.0.1:4222")]
    [InlineData($"alice:{Secret}@127.0.0.1:4222")]
    [InlineData($"nats://127.0.0.1:4222,tls://bob:{Secret}@127.0.0.2:4223")]
    public void Credentials_in_urls_are_redacted_in_options_ToString(string url)
    {
        var options = new NatsOptions { Url = url, Password = Secret, Token = Secret };

        var text = options.ToString();

        Assert.DoesNotContain(Secret, text, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData($"http://alice:{Secret}@127.0.0.1:4222")]
    [InlineData($"nats://alice:{Secret}@127.0.0.1:notaport")]
    [InlineData($"nats://alice:{Secret}@")]
    [InlineData($"nats://127.0.0.1:4222,ftp://{Secret}@host")]
    public void Invalid_url_is_rejected_without_revealing_its_credentials(string url)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new NatsConnection(new NatsOptions { Url = url }));

        Assert.DoesNotContain(Secret, error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" , ")]
    public void Empty_url_is_rejected(string url) =>
        Assert.ThrowsAny<ArgumentException>(() => new NatsConnection(new NatsOptions { Url = url }));

    public static TheoryData<string, NatsOptions> InvalidOptions => new()
    {
        { "ConnectTimeout", new NatsOptions { ConnectTimeout = TimeSpan.Zero } },
        { "RequestTimeout", new NatsOptions { RequestTimeout = TimeSpan.FromSeconds(-1) } },
        { "PingInterval", new NatsOptions { PingInterval = TimeSpan.Zero } },
        { "ReconnectWait", new NatsOptions { ReconnectWait = TimeSpan.Zero } },
        { "ReconnectJitter", new NatsOptions { ReconnectJitter = TimeSpan.FromMilliseconds(-1) } },
        { "MaxReconnectWait", new NatsOptions { MaxReconnectWait = TimeSpan.FromMilliseconds(-5) } },
        { "MaxReconnectAttempts", new NatsOptions { MaxReconnectAttempts = -2 } },
        { "MaxPingsOutstanding", new NatsOptions { MaxPingsOutstanding = 0 } },
        { "MaxPendingBytes", new NatsOptions { MaxPendingBytes = 1024 } },
        { "SubscriptionCapacity", new NatsOptions { SubscriptionCapacity = 0 } },
        { "InboxPrefix", new NatsOptions { InboxPrefix = "_INBOX.>" } },
        { "InboxPrefix", new NatsOptions { InboxPrefix = "bad prefix" } },
        { "InboxPrefix", new NatsOptions { InboxPrefix = "_INBOX." } },
        { "InboxPrefix", new NatsOptions { InboxPrefix = "a..b" } },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Out_of_range_option_is_rejected_naming_the_option(string name, NatsOptions options)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new NatsConnection(options));

        Assert.Equal(name, error.ParamName);
    }

    [Fact]
    public async Task Custom_inbox_prefix_is_used_for_requests()
    {
        await using var server = await NatsServer.StartAsync(output, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url) with { InboxPrefix = "_MY.inbox" });
        await using var service = await nats.SubscribeAsync("svc.whoami");
        await nats.FlushAsync();
        _ = Task.Run(async () =>
        {
            await foreach (var m in service.ReadAllAsync())
            {
                await nats.PublishAsync(m.ReplyTo!, System.Text.Encoding.UTF8.GetBytes(m.ReplyTo!));
            }
        });

        var reply = await nats.RequestAsync("svc.whoami").AsTask().Within();

        Assert.StartsWith("_MY.inbox.", System.Text.Encoding.UTF8.GetString(reply.Data.Span), StringComparison.Ordinal);
        Assert.StartsWith("_MY.inbox.", nats.NewInbox(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_subjects_are_rejected_before_connecting()
    {
        await using var nats = new NatsConnection(new NatsOptions());

        await Assert.ThrowsAsync<ArgumentException>(async () => await nats.PublishAsync("a.*"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await nats.PublishAsync("a..b"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await nats.PublishAsync("has space"));
        await Assert.ThrowsAsync<ArgumentException>(async () => await nats.SubscribeAsync("a.>.b"));
        Assert.Equal(NatsConnectionState.New, nats.State);
    }
}

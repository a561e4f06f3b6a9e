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

    [Fact]
    public async Task Unencoded_comma_in_a_url_password_stays_part_of_the_password()
    {
        const string CommaPassword = "pa,ss-S3cret";
        await using var server = await NatsServer.StartAsync(output, $$"""authorization { users = [ { user: carol, password: "{{CommaPassword}}" } ] }""", jetStream: false);
        var logs = new CapturingLoggerFactory();
        await using var nats = new NatsConnection(Test.Options($"nats://carol:{CommaPassword}@127.0.0.1:{server.Port}", logs));

        await nats.ConnectAsync().Within();

        Assert.Equal(server.Url, nats.ConnectedServer);
        Assert.DoesNotContain("S3cret", nats.Options.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("S3cret", logs.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nats://alice:a,b,c-S3cret@127.0.0.1:4222")]
    [InlineData("nats://127.0.0.1:4221 , tls://alice:x,,y-S3cret@127.0.0.1:4222,nats://127.0.0.1:4223")]
    [InlineData("alice:S3cret-head,tail@127.0.0.1:4222")]
    public void Unencoded_commas_in_a_url_password_parse_as_one_seed(string url)
    {
        var options = new NatsOptions { Url = url };

        options.Validate();

        Assert.DoesNotContain("S3cret", options.ToString(), StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:4222", options.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nats://alice:1234,S3cret@127.0.0.1:4222")]
    [InlineData("nats://tok,S3cret@127.0.0.1:4222")]
    [InlineData("nats://127.0.0.1:4221,alice:S3cret@127.0.0.1:4222")]
    public void Comma_that_may_separate_seeds_or_belong_to_a_password_is_rejected_asking_to_percent_encode(string url)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => new NatsConnection(new NatsOptions { Url = url }));

        Assert.Contains("%2C", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("S3cret", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("1234", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("S3cret", new NatsOptions { Url = url }.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Seed_with_credentials_and_a_scheme_after_another_seed_is_a_separate_seed()
    {
        var options = new NatsOptions { Url = $"nats://127.0.0.1:4221,nats://alice:{Secret}@127.0.0.1:4222,tls://tok-{Secret}@127.0.0.1:4223" };

        options.Validate();

        Assert.Equal("nats://127.0.0.1:4221,nats://***@127.0.0.1:4222,tls://***@127.0.0.1:4223", CacheProvider.Nats.Internal.NatsUri.Redact(options.Url));
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

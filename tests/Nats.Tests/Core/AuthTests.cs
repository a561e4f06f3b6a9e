using System.Diagnostics;
using System.Text.RegularExpressions;

namespace CacheProvider.Nats.Tests.Core;

public sealed partial class AuthTests(ITestOutputHelper output)
{
    private const string Password = "pa55-S3cret!word";
    private const string Token = "t0ken-S3cret-value";
    private const string UsersConfig = $$"""
        authorization {
          users = [ { user: alice, password: "{{Password}}" }, { user: bob, password: "p@ss/w:rd" } ]
        }
        """;

    private const string TokenConfig = $$"""
        authorization { token: "{{Token}}" }
        """;

    [Fact]
    public async Task User_and_password_in_options_connect()
    {
        await using var server = await NatsServer.StartAsync(output, UsersConfig, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url) with { User = "alice", Password = Password });

        await PingPongAsync(nats);
    }

    [Fact]
    public async Task User_and_password_in_the_url_connect()
    {
        await using var server = await NatsServer.StartAsync(output, UsersConfig, jetStream: false);
        await using var nats = new NatsConnection(Test.Options($"nats://alice:{Password}@127.0.0.1:{server.Port}"));

        await PingPongAsync(nats);
        Assert.DoesNotContain(Password, nats.ConnectedServer!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Percent_encoded_password_in_the_url_is_decoded()
    {
        await using var server = await NatsServer.StartAsync(output, UsersConfig, jetStream: false);
        await using var nats = new NatsConnection(Test.Options($"nats://bob:{Uri.EscapeDataString("p@ss/w:rd")}@127.0.0.1:{server.Port}"));

        await PingPongAsync(nats);
    }

    [Fact]
    public async Task Token_in_options_connects()
    {
        await using var server = await NatsServer.StartAsync(output, TokenConfig, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url) with { Token = Token });

        await PingPongAsync(nats);
    }

    [Fact]
    public async Task Token_in_the_url_connects()
    {
        await using var server = await NatsServer.StartAsync(output, TokenConfig, jetStream: false);
        await using var nats = new NatsConnection(Test.Options($"nats://{Token}@127.0.0.1:{server.Port}"));

        await PingPongAsync(nats);
    }

    [Fact]
    public async Task Wrong_password_throws_authorization_exception_once_without_a_retry_loop()
    {
        await using var server = await NatsServer.StartAsync(output, UsersConfig, jetStream: false);
        var logs = new CapturingLoggerFactory();
        const string Wrong = "Wr0ng-S3cret-guess";
        var options = Test.Options(server.Url, logs) with { User = "alice", Password = Wrong, ConnectTimeout = TimeSpan.FromSeconds(10) };
        await using var nats = new NatsConnection(options);

        // A retry loop or a wait for the connect timeout would take far longer than this bound.
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<NatsAuthorizationException>(() => nats.ConnectAsync().Within());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");

        // Anything still retrying in the background would show up in the server log meanwhile.
        await Task.Delay(500);
        Assert.InRange(AuthFailures(server.Log), 1, 2);
        Assert.NotEqual(NatsConnectionState.Connected, nats.State);
        AssertNoSecret(Wrong, error, logs);
    }

    [Fact]
    public async Task Wrong_password_in_the_url_never_shows_up_in_exceptions_or_logs()
    {
        await using var server = await NatsServer.StartAsync(output, UsersConfig, jetStream: false);
        var logs = new CapturingLoggerFactory();
        const string Wrong = "Url-Wr0ng-S3cret";
        await using var nats = new NatsConnection(Test.Options($"nats://alice:{Wrong}@127.0.0.1:{server.Port}", logs));

        var error = await Assert.ThrowsAsync<NatsAuthorizationException>(async () => await nats.PublishAsync("x", "y"u8.ToArray()));

        AssertNoSecret(Wrong, error, logs);
        Assert.DoesNotContain(Wrong, nats.Options.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_token_throws_authorization_exception_and_the_token_is_not_revealed()
    {
        await using var server = await NatsServer.StartAsync(output, TokenConfig, jetStream: false);
        var logs = new CapturingLoggerFactory();
        const string Wrong = "Wr0ng-t0ken-value";
        await using var nats = new NatsConnection(Test.Options(server.Url, logs) with { Token = Wrong });

        var error = await Assert.ThrowsAsync<NatsAuthorizationException>(() => nats.ConnectAsync().Within());

        await Task.Delay(300);
        Assert.InRange(AuthFailures(server.Log), 1, 2);
        AssertNoSecret(Wrong, error, logs);
    }

    [Fact]
    public async Task Missing_credentials_throw_authorization_exception()
    {
        await using var server = await NatsServer.StartAsync(output, UsersConfig, jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));

        await Assert.ThrowsAsync<NatsAuthorizationException>(() => nats.ConnectAsync().Within());
    }

    [Fact]
    public async Task Correct_password_is_not_logged_through_a_whole_session_with_a_reconnect()
    {
        await using var server = await NatsServer.StartAsync(output, UsersConfig, jetStream: false);
        var logs = new CapturingLoggerFactory();
        await using var nats = new NatsConnection(Test.Options($"nats://alice:{Password}@127.0.0.1:{server.Port}", logs));
        var reconnected = Test.Signal<bool>();
        nats.Reconnected += (_, _) => reconnected.TrySetResult(true);
        await PingPongAsync(nats);

        await server.KillAsync();
        await server.StartAgainAsync();
        await reconnected.Task.Within();
        await PingPongAsync(nats);

        Assert.Contains("Reconnected", logs.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reconnect_refused_twice_by_every_server_closes_with_authorization_exception_instead_of_retrying_forever()
    {
        const string Rotated = "r0tated-S3cret-value";
        var server = await NatsServer.StartAsync(output, UsersConfig, jetStream: false);
        NatsServer? rotated = null;
        try
        {
            var logs = new CapturingLoggerFactory();
            var options = Test.Options($"nats://alice:{Password}@127.0.0.1:{server.Port}", logs) with { RequestTimeout = TimeSpan.FromMinutes(5) };
            await using var nats = new NatsConnection(options);
            var closed = Test.Signal<NatsConnectionEventArgs>();
            nats.Closed += (_, e) => closed.TrySetResult(e);
            var sub = await nats.SubscribeAsync("auth.rotated");
            await nats.FlushAsync();

            // The server comes back on the same port, but alice's password was rotated: ours is refused from now on.
            await server.KillAsync();
            var pending = nats.RequestAsync("svc.somewhere").AsTask();
            rotated = await NatsServer.StartAsync(output, UsersConfig.Replace(Password, Rotated, StringComparison.Ordinal), jetStream: false, port: server.Port);

            var end = await closed.Task.Within();
            Assert.IsType<NatsAuthorizationException>(end.Error);
            Assert.Equal(NatsConnectionState.Closed, nats.State);
            var forPending = await Assert.ThrowsAsync<NatsAuthorizationException>(() => pending.Within());
            var forSubscriber = await Assert.ThrowsAsync<NatsAuthorizationException>(() => sub.Messages.Completion.Within());
            var forLater = await Assert.ThrowsAsync<NatsAuthorizationException>(() => nats.FlushAsync().Within());
            var forPublisher = await Assert.ThrowsAsync<NatsAuthorizationException>(async () => await nats.PublishAsync("x", "y"u8.ToArray()));

            // Given up for good: the server sees no further attempts.
            var refusals = AuthFailures(rotated.Log);
            Assert.InRange(refusals, 2, 3);
            await Task.Delay(1000);
            Assert.Equal(refusals, AuthFailures(rotated.Log));

            foreach (var error in new[] { end.Error!, forPending, forSubscriber, forLater, forPublisher })
            {
                AssertNoSecret(Password, error, logs);
                AssertNoSecret(Rotated, error, logs);
            }

            Assert.Contains("refused the credentials", logs.Text, StringComparison.Ordinal);
        }
        finally
        {
            if (rotated is not null)
            {
                await rotated.DisposeAsync();
            }

            await server.DisposeAsync();
        }
    }

    private static async Task PingPongAsync(NatsConnection nats)
    {
        await using var sub = await nats.SubscribeAsync("auth.check").AsTask().Within();
        await nats.PublishAsync("auth.check", "x"u8.ToArray());
        await sub.NextAsync();
    }

    private static int AuthFailures(string serverLog) => AuthErrorLine().Count(serverLog);

    private static void AssertNoSecret(string secret, Exception error, CapturingLoggerFactory logs)
    {
        Assert.DoesNotContain(secret, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(secret, logs.Text, StringComparison.Ordinal);
    }

    [GeneratedRegex("authentication error|authorization violation", RegexOptions.IgnoreCase)]
    private static partial Regex AuthErrorLine();
}

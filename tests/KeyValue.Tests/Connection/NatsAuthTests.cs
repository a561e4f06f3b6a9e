using CacheProvider.Connection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NATS.NKeys;
using static CacheProvider.KeyValue.Tests.KvTest;

namespace CacheProvider.KeyValue.Tests.Connection;

/// <summary>
/// Every authentication method end to end against a real nats-server, through <c>AddNatsConnection</c> (the path
/// every CacheProvider extension takes when the app registered no connection itself): connect, create a bucket,
/// write and read. Wrong credentials fail at once with the server's refusal, and no secret reaches a log line.
/// </summary>
public sealed class NatsAuthTests(ITestOutputHelper output) : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nats-auth-").FullName;

    [Fact]
    public async Task User_and_password_connect_and_a_wrong_password_is_refused_without_logging_it()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        await using var server = await NatsServer.StartAsync(output, $$"""authorization { user: app, password: "{{password}}" }""");
        await RoundTripAsync(server, o => (o.User, o.Password) = ("app", password), password);

        var wrong = "pw-" + Guid.NewGuid().ToString("N");
        await RefusedAsync(server, o => (o.User, o.Password) = ("app", wrong), wrong, password);
    }

    [Fact]
    public async Task Token_connects_and_a_wrong_token_is_refused_without_logging_it()
    {
        var token = "tk-" + Guid.NewGuid().ToString("N");
        await using var server = await NatsServer.StartAsync(output, $$"""authorization { token: "{{token}}" }""");
        await RoundTripAsync(server, o => o.Token = token, token);

        var wrong = "tk-" + Guid.NewGuid().ToString("N");
        await RefusedAsync(server, o => o.Token = wrong, wrong, token);
    }

    [Fact]
    public async Task NKey_seed_file_connects_and_an_unknown_key_is_refused_without_logging_the_seed()
    {
        using var user = KeyPair.CreatePair(PrefixByte.User);
        await using var server = await NatsServer.StartAsync(output, $$"""authorization { users: [ { nkey: {{user.GetPublicKey()}} } ] }""");
        var seed = user.GetSeed();
        await RoundTripAsync(server, o => o.NKeySeedFile = Write("user.nk", seed), seed);

        using var stranger = KeyPair.CreatePair(PrefixByte.User);
        var strangerSeed = stranger.GetSeed();
        await RefusedAsync(server, o => o.NKeySeedFile = Write("stranger.nk", strangerSeed), strangerSeed, seed);
    }

    [Fact]
    public async Task Jwt_creds_from_an_operator_account_user_chain_connect_with_jetstream_and_a_foreign_user_jwt_is_refused()
    {
        using var chain = new NatsJwtChain();
        await using var server = await NatsServer.StartAsync(output, chain.ServerConfig);
        await RoundTripAsync(server, o => o.CredsFile = Write("user.creds", chain.CredsFileText()), chain.UserSeed);

        await RefusedAsync(server, o => o.CredsFile = Write("foreign.creds", chain.CredsFileText(chain.ForeignUserJwt())), chain.UserSeed);
    }

    [Fact]
    public async Task Tls_with_a_custom_ca_connects_and_an_untrusted_server_certificate_is_refused()
    {
        using var certs = TestCertificates.Create();
        await using var server = await NatsServer.StartAsync(output, certs.ServerConfig(verifyClients: false));
        await RoundTripAsync(server, o => o.TlsCaFile = certs.CaFile);

        // Without our CA the server's certificate is not trusted: no fallback to plain text.
        await RefusedAsync(server, _ => { });
    }

    [Fact]
    public async Task Mutual_tls_connects_with_a_client_certificate_and_is_refused_without_one()
    {
        using var certs = TestCertificates.Create();
        await using var server = await NatsServer.StartAsync(output, certs.ServerConfig(verifyClients: true));
        await RoundTripAsync(server, o => (o.TlsCaFile, o.TlsCertFile, o.TlsKeyFile) = (certs.CaFile, certs.ClientCertFile, certs.ClientKeyFile));

        await RefusedAsync(server, o => o.TlsCaFile = certs.CaFile);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static (ServiceProvider Services, CapturedLogs Logs) Build(NatsServer server, Action<NatsConnectionOptions> configure)
    {
        var logs = new CapturedLogs();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace))
            .AddNatsConnection(o =>
            {
                o.Url = server.Url;
                o.ConnectTimeout = TimeSpan.FromSeconds(3);
                configure(o);
            });
        return (services.BuildServiceProvider(), logs);
    }

    private async Task RoundTripAsync(NatsServer server, Action<NatsConnectionOptions> configure, params string[] secrets)
    {
        var (services, logs) = Build(server, configure);
        await using (services)
        {
            var kv = new KvContext(services.GetNatsConnection());
            Assert.True(await kv.ConnectAsync() >= KvContext.MinimumServerVersion);
            var bucket = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "auth", LimitMarkerTtl = TimeSpan.FromSeconds(2) });
            await bucket.PutAsync("k", Bytes("v"), TimeSpan.FromSeconds(30));
            Assert.Equal("v", Text(await bucket.GetAsync("k")));
        }

        AssertNoSecret(logs.All, secrets);
    }

    private async Task RefusedAsync(NatsServer server, Action<NatsConnectionOptions> configure, params string[] secrets)
    {
        var (services, logs) = Build(server, configure);
        await using (services)
        {
            var kv = new KvContext(services.GetNatsConnection());
            var ex = await Assert.ThrowsAsync<KvAuthenticationException>(async () => await kv.ConnectAsync());
            Assert.DoesNotContain("@", ex.Server, StringComparison.Ordinal);
            output.WriteLine($"refused: {ex}");
            AssertNoSecret(ex.ToString(), secrets);

            // Refused once, not retried in a loop: the connection stays down and the server saw no storm of attempts.
            var attemptsSoFar = CountRefusals(server.Log);
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.NotEqual(NatsConnectionState.Open, kv.Connection.ConnectionState);
            Assert.True(CountRefusals(server.Log) - attemptsSoFar <= 1, "the refused connection kept retrying:\n" + server.Log);
        }

        AssertNoSecret(logs.All, secrets);
    }

    private static int CountRefusals(string log)
    {
        var n = 0;
        foreach (var line in log.Split('\n'))
        {
            if (line.Contains("Authorization Violation", StringComparison.OrdinalIgnoreCase) ||
                line.Contains("authentication error", StringComparison.OrdinalIgnoreCase) ||
                line.Contains("TLS handshake error", StringComparison.OrdinalIgnoreCase))
            {
                n++;
            }
        }

        return n;
    }

    private static void AssertNoSecret(string text, string[] secrets)
    {
        foreach (var secret in secrets)
        {
            Assert.False(text.Contains(secret, StringComparison.Ordinal), "a secret appeared in logs or errors");
        }
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, content);
        return path;
    }
}

namespace CacheProvider.Nats.Tests.Core;

/// <summary>
/// TLS against a real nats-server with certificates made by <see cref="TestCertificates"/>. A server
/// certificate the client does not trust, and a handshake the server refuses for lack of a client certificate,
/// both raise <see cref="NatsAuthorizationException"/>: like wrong credentials they cannot succeed on retry,
/// so they fail fast instead of looping.
/// </summary>
public sealed class TlsTests(ITestOutputHelper output) : IDisposable
{
    private readonly TestCertificates _certs = TestCertificates.Create();

    public void Dispose() => _certs.Dispose();

    [Fact]
    public async Task Client_trusting_the_ca_file_verifies_the_server_and_connects()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: false), jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url) with { Tls = new NatsTlsOptions { CaFile = _certs.CaFile } });

        await using var sub = await nats.SubscribeAsync("tls.ping");
        await nats.PublishAsync("tls.ping", "x"u8.ToArray());

        await sub.NextAsync();
        Assert.True(nats.ServerInfo!.TlsRequired);
    }

    [Fact]
    public async Task Tls_url_to_localhost_verifies_the_dns_name_with_ca_certificates_given_as_objects()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: false), jetStream: false);
        var options = Test.Options($"tls://localhost:{server.Port}") with { Tls = new NatsTlsOptions { CaCertificates = _certs.LoadCa() } };
        await using var nats = new NatsConnection(options);

        await nats.ConnectAsync().Within();

        Assert.Equal(NatsConnectionState.Connected, nats.State);
        Assert.StartsWith("tls://", nats.ConnectedServer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_certificate_from_an_untrusted_ca_fails_with_authorization_exception()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: false), jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url));

        var error = await Assert.ThrowsAsync<NatsAuthorizationException>(() => nats.ConnectAsync().Within());

        Assert.Contains("TLS", error.Message, StringComparison.Ordinal);
        Assert.NotEqual(NatsConnectionState.Connected, nats.State);
    }

    [Fact]
    public async Task Server_certificate_not_issued_for_the_target_host_fails_with_authorization_exception()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: false), jetStream: false);
        var tls = new NatsTlsOptions { CaFile = _certs.CaFile, TargetHost = "not-this-server.example" };
        await using var nats = new NatsConnection(Test.Options(server.Url) with { Tls = tls });

        await Assert.ThrowsAsync<NatsAuthorizationException>(() => nats.ConnectAsync().Within());
    }

    [Fact]
    public async Task Insecure_skip_verify_connects_without_trusting_the_ca_and_logs_a_warning()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: false), jetStream: false);
        var logs = new CapturingLoggerFactory();
        var options = Test.Options(server.Url, logs) with { Tls = new NatsTlsOptions { InsecureSkipVerify = true } };
        await using var nats = new NatsConnection(options);

        await nats.ConnectAsync().Within();

        Assert.Equal(NatsConnectionState.Connected, nats.State);
        Assert.Contains("verification is disabled", logs.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Mutual_tls_with_client_certificate_files_connects()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: true), jetStream: false);
        var tls = new NatsTlsOptions { CaFile = _certs.CaFile, CertFile = _certs.ClientCertFile, KeyFile = _certs.ClientKeyFile };
        await using var nats = new NatsConnection(Test.Options(server.Url) with { Tls = tls });

        await using var sub = await nats.SubscribeAsync("mtls");
        await nats.PublishAsync("mtls", "x"u8.ToArray());

        await sub.NextAsync();
        Assert.True(nats.ServerInfo!.TlsVerify);
    }

    [Fact]
    public async Task Mutual_tls_with_a_client_certificate_object_connects()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: true), jetStream: false);
        using var clientCert = _certs.LoadClientCertificate();
        var tls = new NatsTlsOptions { CaCertificates = _certs.LoadCa(), ClientCertificate = clientCert };
        await using var nats = new NatsConnection(Test.Options(server.Url) with { Tls = tls });

        await nats.ConnectAsync().Within();

        Assert.Equal(NatsConnectionState.Connected, nats.State);
    }

    [Fact]
    public async Task Mutual_tls_without_a_client_certificate_fails_with_authorization_exception()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: true), jetStream: false);
        await using var nats = new NatsConnection(Test.Options(server.Url) with { Tls = new NatsTlsOptions { CaFile = _certs.CaFile } });

        await Assert.ThrowsAsync<NatsAuthorizationException>(() => nats.ConnectAsync().Within());

        Assert.NotEqual(NatsConnectionState.Connected, nats.State);
    }

    [Fact]
    public async Task Mutual_tls_with_a_client_certificate_from_another_ca_fails_with_authorization_exception()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: true), jetStream: false);
        using var strangers = TestCertificates.Create();
        var tls = new NatsTlsOptions { CaFile = _certs.CaFile, CertFile = strangers.ClientCertFile, KeyFile = strangers.ClientKeyFile };
        await using var nats = new NatsConnection(Test.Options(server.Url) with { Tls = tls });

        await Assert.ThrowsAsync<NatsAuthorizationException>(() => nats.ConnectAsync().Within());
    }

    [Fact]
    public async Task Unreadable_client_key_fails_with_connection_exception_and_a_later_attempt_fails_again()
    {
        await using var server = await NatsServer.StartAsync(output, _certs.ServerConfig(verifyClients: true), jetStream: false);
        var badKey = Path.Combine(_certs.Directory, "garbage-key.pem");
        await File.WriteAllTextAsync(badKey, "not a key");
        var tls = new NatsTlsOptions { CaFile = _certs.CaFile, CertFile = _certs.ClientCertFile, KeyFile = badKey };
        await using var nats = new NatsConnection(Test.Options(server.Url) with { Tls = tls });

        await Assert.ThrowsAsync<NatsConnectionException>(() => nats.ConnectAsync().Within());
        Assert.Equal(NatsConnectionState.New, nats.State);

        // A failed first connect must not leave a client that believes it is connecting and buffers forever.
        await Assert.ThrowsAsync<NatsConnectionException>(() => nats.FlushAsync().Within());
        Assert.Equal(NatsConnectionState.New, nats.State);
    }
}

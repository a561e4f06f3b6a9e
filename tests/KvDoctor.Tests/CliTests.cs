using CacheProvider.KeyValue;
using NATS.NKeys;

namespace CacheProvider.KvDoctor.Tests;

public sealed class CliTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("audit", "--bogus")]
    [InlineData("audit", "--fail-on", "sometimes")]
    [InlineData("fix", "--max-age", "soon")]
    [InlineData("fix", "--marker-ttl", "500ms")]
    [InlineData("audit", "--password", "p")]
    [InlineData("audit", "--user", "u", "--token", "t")]
    [InlineData("audit", "--tlscert", "/no/such.pem", "--tlskey", "/no/such.key")]
    [InlineData("audit", "--server", "nats://bad host:1")]
    [InlineData("audit", "--creds", "/no/such.creds")]
    [InlineData("audit", "--nkey", "/no/such.nk")]
    [InlineData("watch")]
    [InlineData("frobnicate")]
    [InlineData]
    public async Task Bad_flags_exit_2_with_a_clear_message(params string[] args)
    {
        var (code, _, err) = await Doctor.RunAsync(output, args);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.StartsWith("kv-doctor: ", err);
        Assert.Contains("kv-doctor --help", err);
    }

    [Fact]
    public async Task Unreachable_server_exits_3_naming_it_and_NATS_URL_is_honoured()
    {
        var port = NatsServer.FreePort();
        var (code, _, err) = await Doctor.RunAsync(output, "audit", "-s", $"nats://127.0.0.1:{port}", "--timeout", "1s");
        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains($"cannot reach nats://127.0.0.1:{port}", err);

        Environment.SetEnvironmentVariable("NATS_URL", $"nats://127.0.0.1:{port}");
        try
        {
            (code, _, err) = await Doctor.RunAsync(output, "audit", "--timeout", "1s");
        }
        finally
        {
            Environment.SetEnvironmentVariable("NATS_URL", null);
        }

        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains($"127.0.0.1:{port}", err);
    }

    [Fact]
    public async Task Wrong_credentials_exit_3_without_echoing_the_password_and_right_ones_work()
    {
        await using var server = await NatsServer.StartAsync(output, config: "authorization { user: admin, password: s3cret }");
        var (code, _, err) = await Doctor.RunAsync(output, "audit", "-s", server.Url, "--user", "admin", "--password", "wrong-pw");
        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains("refused the credentials", err);
        Assert.DoesNotContain("wrong-pw", err);
        Assert.Equal(ExitCodes.Ok, (await Doctor.RunAsync(output, "audit", "-s", server.Url, "--user", "admin", "--password", "s3cret")).Code);
    }

    [Fact]
    public async Task NKey_seed_file_authenticates_and_a_wrong_or_missing_seed_exits_3_without_echoing_a_seed()
    {
        using var user = KeyPair.CreatePair(PrefixByte.User);
        using var stranger = KeyPair.CreatePair(PrefixByte.User);
        var dir = Directory.CreateTempSubdirectory("kvdoctor-nkey-").FullName;
        try
        {
            // What "nk -gen user" writes: the seed alone.
            var seedFile = Path.Combine(dir, "user.nk");
            await File.WriteAllTextAsync(seedFile, user.GetSeed() + "\n");
            var strangerFile = Path.Combine(dir, "stranger.nk");
            await File.WriteAllTextAsync(strangerFile, stranger.GetSeed() + "\n");
            await using var server = await NatsServer.StartAsync(output, config: $"authorization {{ users = [ {{ nkey: \"{user.GetPublicKey()}\" }} ] }}");

            var (code, _, err) = await Doctor.RunAsync(output, "audit", "-s", server.Url, "--nkey", seedFile);
            Assert.Equal(ExitCodes.Ok, code);
            Assert.Empty(err);

            (code, _, err) = await Doctor.RunAsync(output, "audit", "-s", server.Url, "--nkey", strangerFile);
            Assert.Equal(ExitCodes.Unreachable, code);
            Assert.Contains("refused the credentials", err);
            Assert.DoesNotContain(stranger.GetSeed(), err);
            Assert.DoesNotContain(user.GetSeed(), err);

            (code, _, err) = await Doctor.RunAsync(output, "audit", "-s", server.Url);
            Assert.Equal(ExitCodes.Unreachable, code);
            Assert.Contains("refused the credentials", err);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Missing_bucket_exits_2_and_a_server_without_JetStream_exits_3()
    {
        await using var server = await NatsServer.StartAsync(output);
        var (code, _, err) = await Doctor.RunAsync(output, "audit", "nope", "-s", server.Url);
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("bucket 'nope' does not exist", err);

        await using var plain = await NatsServer.StartAsync(output, jetStream: false);
        (code, _, err) = await Doctor.RunAsync(output, "audit", "-s", plain.Url);
        Assert.Equal(ExitCodes.Unreachable, code);
        Assert.Contains("JetStream", err);
    }

    [Fact]
    public async Task Watch_shows_operations_marker_reason_and_lateness_after_the_deadline()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var nats = await server.ConnectAsync();
        var bucket = await new KvContext(nats).CreateBucketAsync(new KvBucketConfig { Bucket = "w", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
        await bucket.PutAsync("old", "v"u8.ToArray());
        await bucket.DeleteAsync("old");

        using var o = new StringWriter();
        using var e = new StringWriter();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var run = KvDoctorApp.RunAsync(["watch", "w", "-s", server.Url, "--count", "3"], o, e, cts.Token);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!o.ToString().Contains("DELETE", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        await bucket.PutAsync("k", "v"u8.ToArray(), TimeSpan.FromSeconds(1));
        Assert.Equal(ExitCodes.Ok, await run);
        var lines = o.ToString();
        output.WriteLine(lines + e);
        Assert.Contains("DELETE", lines);
        Assert.Matches(@"PUT\s+k rev=\d+ ttl=1s expires=", lines);
        Assert.Matches(@"MARKER\(Expired\)\s+k rev=\d+ ttl=1s deadline=\S+ late=\+\d+ms", lines);
    }
}

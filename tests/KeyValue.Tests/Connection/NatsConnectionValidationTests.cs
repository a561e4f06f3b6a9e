using CacheProvider.Connection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NATS.NKeys;

namespace CacheProvider.KeyValue.Tests.Connection;

/// <summary>
/// Bad <c>Nats</c> settings stop the host at start with an <see cref="OptionsValidationException"/> whose message names
/// the setting and why — never the password, token or seed. Settings come from configuration, as in an app.
/// </summary>
public sealed class NatsConnectionValidationTests : IDisposable
{
    private const string Password = "pw-Zq81-never-shown";
    private const string Token = "tk-Hx42-never-shown";
    private readonly string _dir = Directory.CreateTempSubdirectory("nats-validation-").FullName;

    public static TheoryData<string, string[]> BadSettings() => new()
    {
        { "User=app", ["Nats:Password is required when Nats:User is set"] },
        { $"Password={Password}", ["Nats:User is required when Nats:Password is set"] },
        { "CredsFile={dir}/missing.creds", ["Nats:CredsFile '{dir}/missing.creds' does not exist"] },
        { "NKeySeedFile={dir}/missing.nk", ["Nats:NKeySeedFile '{dir}/missing.nk' does not exist"] },
        { "TlsCaFile={dir}/ca.pem", ["Nats:TlsCaFile '{dir}/ca.pem' does not exist"] },
        { "Url=http://127.0.0.1:4222", ["Nats:Url 'http://127.0.0.1:4222' must use nats://, tls://, ws:// or wss://"] },
        { $"Url=nats://127.0.0.1:4222,https://app:{Password}@b:4222", ["Nats:Url 'https://***@b:4222' must use nats://, tls://, ws:// or wss://"] },
        { "Url=nats://:4222", ["Nats:Url 'nats://:4222' is not a valid URL"] },
        { "Url= ", ["Nats:Url is required"] },
        { $"Token={Token};User=app;Password={Password}", ["Nats: give one authentication method, not several (User/Password and Token are set)"] },
        { "TlsCertFile={dir}/client.pem", ["Nats:TlsKeyFile is required when Nats:TlsCertFile is set (mutual TLS)", "Nats:TlsCertFile '{dir}/client.pem' does not exist"] },
        { "TlsKeyFile={seed}", ["Nats:TlsCertFile is required when Nats:TlsKeyFile is set (mutual TLS)"] },
        { "NKeySeedFile={noseed}", ["Nats:NKeySeedFile '{noseed}' holds no valid user NKey seed"] },
        { "RequestTimeout=00:00:00", ["Nats:RequestTimeout must be between 1 ms and 1 day (it is 00:00:00)"] },
        { "ReconnectWaitMin=00:00:02;ReconnectWaitMax=00:00:01", ["Nats:ReconnectWaitMax (00:00:01) must not be shorter than Nats:ReconnectWaitMin (00:00:02)"] },
        { "ReconnectJitter=00:05:00", ["Nats:ReconnectJitter must be between 0 and 00:01:00 (it is 00:05:00)"] },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task Bad_settings_stop_the_host_with_a_message_naming_the_setting_and_no_secret(string settings, string[] expected)
    {
        var values = new Dictionary<string, string?>();
        foreach (var pair in Expand(settings).Split(';'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            values["Nats:" + pair[..eq]] = pair[(eq + 1)..];
        }

        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(values);
        builder.Services.AddNatsConnection();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        foreach (var message in expected)
        {
            Assert.Contains(Expand(message), ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(expected.Length, ex.Failures.Count());
        Assert.DoesNotContain(Password, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Token, ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("SUAnot-a-seed", ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Invalid NATS connection settings", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Valid_settings_start_the_host_without_connecting()
    {
        using var pair = KeyPair.CreatePair(PrefixByte.User);
        var seed = Path.Combine(_dir, "user.nk");
        await File.WriteAllTextAsync(seed, pair.GetSeed() + "\n");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Nats:Url"] = $"nats://127.0.0.1:{NatsServer.FreePort()},tls://b:4222",
            ["Nats:NKeySeedFile"] = seed,
        });
        builder.Services.AddNatsConnection();
        using var host = builder.Build();
        await host.StartAsync();
        await host.StopAsync();
    }

    [Fact]
    public void Validate_throws_every_problem_at_once_for_callers_without_a_host()
    {
        var options = new NatsConnectionOptions { Url = "http://a:4222", User = "app", TlsCertFile = Path.Combine(_dir, "c.pem") };
        var ex = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("Nats:Url 'http://a:4222' must use", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Nats:Password is required when Nats:User is set", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Nats:TlsKeyFile is required when Nats:TlsCertFile is set", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Fills in {dir}, {seed} (an existing file) and {noseed} (a file without a seed, but with secret-looking text).</summary>
    private string Expand(string text)
    {
        var noSeed = Path.Combine(_dir, "noseed.nk");
        if (!File.Exists(noSeed))
        {
            File.WriteAllText(noSeed, "SUAnot-a-seed-but-secret-looking\n");
            File.WriteAllText(Path.Combine(_dir, "key.pem"), "not checked");
        }

        return text.Replace("{dir}", _dir, StringComparison.Ordinal)
            .Replace("{noseed}", noSeed, StringComparison.Ordinal)
            .Replace("{seed}", Path.Combine(_dir, "key.pem"), StringComparison.Ordinal);
    }
}

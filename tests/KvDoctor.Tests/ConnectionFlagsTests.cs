using System.CommandLine;
using NATS.NKeys;

namespace CacheProvider.KvDoctor.Tests;

public sealed class ConnectionFlagsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kvdoctor-flags-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Creds_parses_into_the_credentials_file_and_no_other_authentication()
    {
        var creds = Touch("user.creds");
        var opts = Parse("audit", "--creds", creds, "-s", "nats://10.0.0.1:4222,nats://10.0.0.2:4222", "--timeout", "3s");
        Assert.Equal(creds, opts.AuthOpts.CredsFile);
        Assert.Null(opts.AuthOpts.NKeyFile);
        Assert.Null(opts.AuthOpts.Seed);
        Assert.Null(opts.AuthOpts.Username);
        Assert.Null(opts.AuthOpts.Token);
        Assert.Equal("nats://10.0.0.1:4222,nats://10.0.0.2:4222", opts.Url);
        Assert.Equal(TimeSpan.FromSeconds(3), opts.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(3), opts.RequestTimeout);
        Assert.Equal("kv-doctor", opts.Name);
    }

    [Fact]
    public void Nkey_parses_into_the_seed_file_setting_and_no_other_authentication()
    {
        using var pair = KeyPair.CreatePair(PrefixByte.User);
        var seed = Path.Combine(_dir, "user.nk");
        File.WriteAllText(seed, pair.GetSeed() + "\n"); // the seed file is read when the settings are checked
        var flags = new ConnectionFlags();
        var settings = flags.ToSettings(ParseWith(flags, "audit", "--nkey", seed));
        Assert.Equal(seed, settings.NKeySeedFile);
        Assert.Null(settings.CredsFile);
        Assert.Null(settings.User);
        Assert.Null(settings.Password);
        Assert.Null(settings.Token);
    }

    [Fact]
    public void Nkey_seed_file_becomes_the_seed_and_its_public_key()
    {
        using var pair = KeyPair.CreatePair(PrefixByte.User);
        var path = Path.Combine(_dir, "user.nk");
        File.WriteAllText(path, pair.GetSeed() + "\n");
        var opts = Parse("audit", "--nkey", path);
        Assert.Equal(pair.GetSeed(), opts.AuthOpts.Seed);
        Assert.Equal(pair.GetPublicKey(), opts.AuthOpts.NKey);
        Assert.Null(opts.AuthOpts.CredsFile);
        Assert.Null(opts.AuthOpts.Username);
    }

    [Fact]
    public void Nkey_file_without_a_seed_is_a_usage_error_naming_the_flag_not_the_contents()
    {
        var path = Path.Combine(_dir, "not-a-seed");
        File.WriteAllText(path, "SUNOTASEED-secret-looking\n");
        var ex = Assert.Throws<UsageException>(() => Parse("audit", "--nkey", path));
        Assert.Contains("--nkey", ex.Message);
        Assert.DoesNotContain("SUNOTASEED", ex.Message);
    }

    [Fact]
    public void User_password_and_token_parse_into_the_auth_options()
    {
        var opts = Parse("audit", "--user", "admin", "--password", "pw");
        Assert.Equal("admin", opts.AuthOpts.Username);
        Assert.Equal("pw", opts.AuthOpts.Password);
        Assert.Null(opts.AuthOpts.CredsFile);
        Assert.Equal("tok", Parse("audit", "--token", "tok").AuthOpts.Token);
    }

    [Theory]
    [InlineData("--creds", "--nkey")]
    [InlineData("--creds", "--token")]
    [InlineData("--nkey", "--token")]
    public void Two_authentication_methods_are_a_usage_error_naming_both_flags(string first, string second)
    {
        var file = Touch("f");
        var ex = Assert.Throws<UsageException>(() => Parse("audit", first, file, second, file));
        Assert.Contains(first, ex.Message);
        Assert.Contains(second, ex.Message);
    }

    [Theory]
    [InlineData("--creds")]
    [InlineData("--nkey")]
    public void A_missing_credentials_file_is_a_usage_error_naming_the_flag(string flag)
    {
        var ex = Assert.Throws<UsageException>(() => Parse("audit", flag, Path.Combine(_dir, "missing")));
        Assert.Contains(flag, ex.Message);
    }

    private static NATS.Client.Core.NatsOpts Parse(params string[] args)
    {
        var flags = new ConnectionFlags();
        return flags.ToOptions(ParseWith(flags, args));
    }

    private static ParseResult ParseWith(ConnectionFlags flags, params string[] args)
    {
        var root = new RootCommand { new Command("audit") };
        flags.AddTo(root);
        var parse = root.Parse(args);
        Assert.Empty(parse.Errors);
        return parse;
    }

    private string Touch(string name)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllText(path, "placeholder\n");
        return path;
    }
}

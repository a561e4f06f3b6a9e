using System.CommandLine;
using CacheProvider.Connection;
using NATS.Client.Core;

namespace CacheProvider.KvDoctor;

/// <summary>Connection flags shared by every command, named like the nats CLI's.</summary>
internal sealed class ConnectionFlags
{
    /// <summary>Default server when neither <c>--server</c> nor <c>NATS_URL</c> is given.</summary>
    public const string DefaultUrl = "nats://127.0.0.1:4222";

    private static readonly string[] Schemes = ["nats", "tls", "ws", "wss"];

    public Option<string?> Server { get; } = new("--server", "-s") { Description = "NATS server URL(s), comma separated (env NATS_URL; default " + DefaultUrl + ")", Recursive = true };

    public Option<string?> User { get; } = new("--user") { Description = "User name", Recursive = true };

    public Option<string?> Password { get; } = new("--password") { Description = "Password (with --user)", Recursive = true };

    public Option<string?> Token { get; } = new("--token") { Description = "Authentication token", Recursive = true };

    public Option<string?> Creds { get; } = new("--creds") { Description = "User credentials file (JWT and NKey seed) for decentralised JWT authentication", Recursive = true };

    public Option<string?> NKey { get; } = new("--nkey") { Description = "File holding the user's NKey seed (SU...) for NKey authentication", Recursive = true };

    public Option<string?> TlsCa { get; } = new("--tlsca") { Description = "CA certificate file (PEM) to verify the server", Recursive = true };

    public Option<string?> TlsCert { get; } = new("--tlscert") { Description = "Client certificate file (PEM), with --tlskey", Recursive = true };

    public Option<string?> TlsKey { get; } = new("--tlskey") { Description = "Client private key file (PEM), with --tlscert", Recursive = true };

    public Option<string> Timeout { get; } = new("--timeout") { Description = "Connect and request timeout", DefaultValueFactory = _ => "5s", Recursive = true };

    public void AddTo(Command command)
    {
        command.Add(Server);
        command.Add(User);
        command.Add(Password);
        command.Add(Token);
        command.Add(Creds);
        command.Add(NKey);
        command.Add(TlsCa);
        command.Add(TlsCert);
        command.Add(TlsKey);
        command.Add(Timeout);
    }

    /// <summary>The connection settings the parsed flags describe (validated; secrets stay in them, never print them).</summary>
    /// <exception cref="UsageException">Inconsistent flags, missing files or a malformed URL.</exception>
    public NatsConnectionOptions ToSettings(ParseResult parse)
    {
        var url = parse.GetValue(Server) ?? Environment.GetEnvironmentVariable("NATS_URL");
        if (string.IsNullOrWhiteSpace(url))
        {
            url = DefaultUrl;
        }

        ValidateUrls(url);
        var user = parse.GetValue(User);
        var password = parse.GetValue(Password);
        var token = parse.GetValue(Token);
        var creds = parse.GetValue(Creds);
        var nkey = parse.GetValue(NKey);
        if (password is not null && user is null)
        {
            throw new UsageException("--password needs --user");
        }

        if (user is not null && password is null)
        {
            throw new UsageException("--user needs --password");
        }

        var methods = new[] { ("--user", (object?)user), ("--token", token), ("--creds", creds), ("--nkey", nkey) }.Where(m => m.Item2 is not null).Select(m => m.Item1).ToList();
        if (methods.Count > 1)
        {
            throw new UsageException($"{string.Join(" and ", methods)} cannot be used together (one authentication method)");
        }

        var ca = parse.GetValue(TlsCa);
        var cert = parse.GetValue(TlsCert);
        var key = parse.GetValue(TlsKey);
        if ((cert is null) != (key is null))
        {
            throw new UsageException("--tlscert and --tlskey must be given together");
        }

        foreach (var (flag, path) in new[] { ("--creds", creds), ("--nkey", nkey), ("--tlsca", ca), ("--tlscert", cert), ("--tlskey", key) })
        {
            if (path is not null && !File.Exists(path))
            {
                throw new UsageException($"{flag}: file '{path}' does not exist");
            }
        }

        var timeout = Durations.Parse(parse.GetValue(Timeout) ?? "5s", "--timeout");
        if (timeout <= TimeSpan.Zero)
        {
            throw new UsageException("--timeout must be positive");
        }

        var settings = new NatsConnectionOptions
        {
            Url = url,
            Name = "kv-doctor",
            User = user,
            Password = password,
            Token = token,
            CredsFile = creds,
            NKeySeedFile = nkey,
            TlsCaFile = ca,
            TlsCertFile = cert,
            TlsKeyFile = key,
            ConnectTimeout = timeout,
            RequestTimeout = timeout,
        };
        try
        {
            settings.Validate();
        }
        catch (ArgumentException ex)
        {
            // The messages name settings and files, never a secret; here the settings are flags.
            throw new UsageException(AsFlags(ex.Message), ex);
        }

        return settings;
    }

    /// <summary>Client options for the parsed flags: <see cref="ToSettings"/> applied to NATS.Net's defaults.</summary>
    /// <exception cref="UsageException">Inconsistent flags, missing files or a malformed URL.</exception>
    public NatsOpts ToOptions(ParseResult parse)
    {
        var settings = ToSettings(parse);
        NatsOpts opts;
        try
        {
            opts = settings.ApplyTo(NatsOpts.Default);
        }
        catch (ArgumentException ex)
        {
            // E.g. an --nkey file without a seed; the messages name settings and files, never a secret.
            throw new UsageException(AsFlags(ex.Message), ex);
        }

        return opts with
        {
            CommandTimeout = settings.RequestTimeout,
            MaxReconnectRetry = 3,
        };
    }

    /// <summary>A connection-settings message with each <c>Nats:</c> setting named as the flag that sets it.</summary>
    private static string AsFlags(string message)
    {
        foreach (var (setting, flag) in SettingFlags)
        {
            message = message.Replace(setting, flag, StringComparison.Ordinal);
        }

        return message;
    }

    private static readonly (string Setting, string Flag)[] SettingFlags =
    [
        ("Nats:NKeySeedFile", "--nkey"), ("Nats:CredsFile", "--creds"), ("Nats:TlsCaFile", "--tlsca"), ("Nats:TlsCertFile", "--tlscert"),
        ("Nats:TlsKeyFile", "--tlskey"), ("Nats:Password", "--password"), ("Nats:User", "--user"), ("Nats:Token", "--token"),
        ("Nats:Url", "--server"), ("Nats:RequestTimeout", "--timeout"), ("Nats:ConnectTimeout", "--timeout"),
    ];

    /// <summary><paramref name="url"/> without the user info of each of its URLs (the user name or password, or a token).</summary>
    public static string Redact(string url) => string.Join(",", url.Split(',').Select(u => RedactOne(u.Trim())));

    private static string RedactOne(string url)
    {
        var at = url.LastIndexOf('@');
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme >= 0 && at > scheme ? url[..(scheme + 3)] + "***" + url[at..] : url;
    }

    private static void ValidateUrls(string url)
    {
        foreach (var part in url.Split(','))
        {
            var u = part.Trim();
            var full = u.Contains("://", StringComparison.Ordinal) ? u : "nats://" + u;
            if (u.Length == 0 || !Uri.TryCreate(full, UriKind.Absolute, out var uri) || !Schemes.Contains(uri.Scheme) || string.IsNullOrEmpty(uri.Host))
            {
                throw new UsageException($"--server: '{RedactOne(u)}' is not a NATS URL (nats://host:port, tls://, ws:// or wss://)");
            }
        }
    }
}

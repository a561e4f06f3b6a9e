using System.CommandLine;
using CacheProvider.Nats;

namespace CacheProvider.KvDoctor;

/// <summary>Connection flags shared by every command, named like the nats CLI's.</summary>
internal sealed class ConnectionFlags
{
    /// <summary>Default server when neither <c>--server</c> nor <c>NATS_URL</c> is given.</summary>
    public const string DefaultUrl = "nats://127.0.0.1:4222";

    public Option<string?> Server { get; } = new("--server", "-s") { Description = "NATS server URL(s), comma separated (env NATS_URL; default " + DefaultUrl + ")", Recursive = true };

    public Option<string?> User { get; } = new("--user") { Description = "User name", Recursive = true };

    public Option<string?> Password { get; } = new("--password") { Description = "Password (with --user)", Recursive = true };

    public Option<string?> Token { get; } = new("--token") { Description = "Authentication token", Recursive = true };

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
        command.Add(TlsCa);
        command.Add(TlsCert);
        command.Add(TlsKey);
        command.Add(Timeout);
    }

    /// <summary>Validated client options for the parsed flags.</summary>
    /// <exception cref="UsageException">Inconsistent flags, missing files or a malformed URL.</exception>
    public NatsOptions ToOptions(ParseResult parse)
    {
        var url = parse.GetValue(Server) ?? Environment.GetEnvironmentVariable("NATS_URL");
        if (string.IsNullOrWhiteSpace(url))
        {
            url = DefaultUrl;
        }

        var user = parse.GetValue(User);
        var password = parse.GetValue(Password);
        var token = parse.GetValue(Token);
        if (password is not null && user is null)
        {
            throw new UsageException("--password needs --user");
        }

        if (token is not null && user is not null)
        {
            throw new UsageException("--token and --user cannot be used together");
        }

        var ca = parse.GetValue(TlsCa);
        var cert = parse.GetValue(TlsCert);
        var key = parse.GetValue(TlsKey);
        if ((cert is null) != (key is null))
        {
            throw new UsageException("--tlscert and --tlskey must be given together");
        }

        foreach (var (flag, path) in new[] { ("--tlsca", ca), ("--tlscert", cert), ("--tlskey", key) })
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

        var options = new NatsOptions
        {
            Url = url,
            Name = "kv-doctor",
            User = user,
            Password = password,
            Token = token,
            Tls = ca is null && cert is null ? null : new NatsTlsOptions { CaFile = ca, CertFile = cert, KeyFile = key },
            ConnectTimeout = timeout,
            RequestTimeout = timeout,
            MaxReconnectAttempts = 3,
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new UsageException($"--server: {ex.Message} ('{Redact(url)}')", ex);
        }

        return options;
    }

    private static string Redact(string url)
    {
        var at = url.LastIndexOf('@');
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        return at > 0 && scheme >= 0 && at > scheme ? url[..(scheme + 3)] + "***" + url[at..] : url;
    }
}

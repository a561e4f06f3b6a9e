using CacheProvider.Connection;
using Microsoft.Extensions.Options;

namespace CacheProvider.KeyValue.Internal;

/// <summary>
/// The start-up check of <see cref="NatsConnectionOptions"/> (registered with <c>ValidateOnStart</c> by
/// <c>AddNatsConnection</c>): every problem is reported with the setting's name (<c>Nats:…</c>) and why. File paths
/// and URLs (without their user info) are shown; passwords, tokens and seeds never are.
/// </summary>
internal sealed class NatsConnectionOptionsValidator : IValidateOptions<NatsConnectionOptions>
{
    private static readonly TimeSpan MinTimeout = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    public ValidateOptionsResult Validate(string? name, NatsConnectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Errors(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Every problem of <paramref name="o"/>, each naming its setting; empty when the settings are usable.</summary>
    public static List<string> Errors(NatsConnectionOptions o)
    {
        var errors = new List<string>();
        CheckUrl(o.Url, errors);

        var methods = new List<string>(4);
        if (o.User is not null || o.Password is not null)
        {
            methods.Add("User/Password");
        }

        if (o.Token is not null)
        {
            methods.Add("Token");
        }

        if (o.NKeySeedFile is not null)
        {
            methods.Add("NKeySeedFile");
        }

        if (o.CredsFile is not null)
        {
            methods.Add("CredsFile");
        }

        if (methods.Count > 1)
        {
            errors.Add($"Nats: give one authentication method, not several ({string.Join(" and ", methods)} are set)");
        }

        if (o.User is not null && o.Password is null)
        {
            errors.Add("Nats:Password is required when Nats:User is set");
        }
        else if (o.Password is not null && o.User is null)
        {
            errors.Add("Nats:User is required when Nats:Password is set");
        }

        if (o.TlsCertFile is not null && o.TlsKeyFile is null)
        {
            errors.Add("Nats:TlsKeyFile is required when Nats:TlsCertFile is set (mutual TLS)");
        }
        else if (o.TlsKeyFile is not null && o.TlsCertFile is null)
        {
            errors.Add("Nats:TlsCertFile is required when Nats:TlsKeyFile is set (mutual TLS)");
        }

        CheckFile("NKeySeedFile", o.NKeySeedFile, errors);
        CheckFile("CredsFile", o.CredsFile, errors);
        CheckFile("TlsCaFile", o.TlsCaFile, errors);
        CheckFile("TlsCertFile", o.TlsCertFile, errors);
        CheckFile("TlsKeyFile", o.TlsKeyFile, errors);
        if (o.NKeySeedFile is { } seedFile && File.Exists(seedFile) && NatsConnectionOptions.SeedFileProblem(seedFile) is { } problem)
        {
            errors.Add($"Nats:NKeySeedFile '{seedFile}' {problem}");
        }

        CheckTimeout("RequestTimeout", o.RequestTimeout, errors);
        CheckTimeout("ConnectTimeout", o.ConnectTimeout, errors);
        CheckWait("ReconnectWaitMin", o.ReconnectWaitMin, TimeSpan.FromMinutes(10), errors);
        CheckWait("ReconnectWaitMax", o.ReconnectWaitMax, TimeSpan.FromMinutes(10), errors);
        CheckWait("ReconnectJitter", o.ReconnectJitter, TimeSpan.FromMinutes(1), errors);
        if (o.ReconnectWaitMax < o.ReconnectWaitMin)
        {
            errors.Add($"Nats:ReconnectWaitMax ({o.ReconnectWaitMax:c}) must not be shorter than Nats:ReconnectWaitMin ({o.ReconnectWaitMin:c})");
        }
        return errors;
    }

    /// <summary><paramref name="url"/> with any user info (<c>user:password@</c>, <c>token@</c>) replaced by <c>***@</c>.</summary>
    public static string Redact(string url)
    {
        var schemeEnd = url.IndexOf("://", StringComparison.Ordinal);
        var authorityStart = schemeEnd >= 0 ? schemeEnd + 3 : 0;
        var authorityEnd = url.IndexOfAny(['/', '?', '#'], authorityStart);
        if (authorityEnd < 0)
        {
            authorityEnd = url.Length;
        }

        var at = url.LastIndexOf('@', authorityEnd - 1, authorityEnd - authorityStart);
        return at < 0 ? url : string.Concat(url.AsSpan(0, authorityStart), "***@", url.AsSpan(at + 1));
    }

    private static void CheckUrl(string? url, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            errors.Add("Nats:Url is required: one or more seeds, comma separated (e.g. nats://127.0.0.1:4222)");
            return;
        }

        foreach (var seed in url.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            // Without a scheme NATS.Net assumes nats://; other schemes than its four would fail only when connecting.
            var schemeEnd = seed.IndexOf("://", StringComparison.Ordinal);
            var scheme = schemeEnd > 0 ? seed[..schemeEnd].ToLowerInvariant() : "nats";
            if (scheme is not ("nats" or "tls" or "ws" or "wss"))
            {
                errors.Add($"Nats:Url '{Redact(seed)}' must use nats://, tls://, ws:// or wss://");
            }
            else if (!Uri.TryCreate(schemeEnd > 0 ? seed : "nats://" + seed, UriKind.Absolute, out var parsed) || parsed.Host.Length == 0)
            {
                errors.Add($"Nats:Url '{Redact(seed)}' is not a valid URL (expected e.g. nats://host:4222)");
            }
        }
    }

    private static void CheckFile(string setting, string? path, List<string> errors)
    {
        if (path is null)
        {
            return;
        }

        if (path.Trim().Length == 0)
        {
            errors.Add($"Nats:{setting} is empty: give a file path or leave it out");
        }
        else if (!File.Exists(path))
        {
            errors.Add($"Nats:{setting} '{path}' does not exist");
        }
    }

    private static void CheckWait(string setting, TimeSpan value, TimeSpan max, List<string> errors)
    {
        if (value < TimeSpan.Zero || value > max)
        {
            errors.Add($"Nats:{setting} must be between 0 and {max:c} (it is {value:c})");
        }
    }

    private static void CheckTimeout(string setting, TimeSpan value, List<string> errors)
    {
        if (value < MinTimeout || value > MaxTimeout)
        {
            errors.Add($"Nats:{setting} must be between 1 ms and 1 day (it is {value:c})");
        }
    }
}

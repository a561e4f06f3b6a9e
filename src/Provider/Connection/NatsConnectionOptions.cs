using System.ComponentModel.DataAnnotations;
using CacheProvider.Nats;
using Microsoft.Extensions.Logging;

namespace CacheProvider.Connection;

/// <summary>
/// Bindable settings of the shared <see cref="NatsConnection"/> (e.g. from the <c>Nats</c> configuration section).
/// Secrets (password, token) are never logged.
/// </summary>
public sealed class NatsConnectionOptions
{
    /// <summary>Seed server URLs, comma separated (<c>nats://</c> or <c>tls://</c>).</summary>
    [Required]
    public string Url { get; set; } = "nats://127.0.0.1:4222";

    /// <summary>Client name shown in server monitoring.</summary>
    public string? Name { get; set; }

    /// <summary>User name.</summary>
    public string? User { get; set; }

    /// <summary>Password.</summary>
    public string? Password { get; set; }

    /// <summary>Token.</summary>
    public string? Token { get; set; }

    /// <summary>PEM file with the CA that signs the server certificate (turns TLS on).</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>PEM client certificate for mutual TLS.</summary>
    public string? TlsCertFile { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertFile"/>.</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>Accept any server certificate: local development only.</summary>
    public bool TlsInsecureSkipVerify { get; set; }

    /// <summary>Timeout of one request to the server.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Timeout of one connection attempt.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Builds the client options.</summary>
    public NatsOptions ToNatsOptions(ILoggerFactory loggerFactory)
    {
        var tls = TlsCaFile is null && TlsCertFile is null && !TlsInsecureSkipVerify
            ? null
            : new NatsTlsOptions { CaFile = TlsCaFile, CertFile = TlsCertFile, KeyFile = TlsKeyFile, InsecureSkipVerify = TlsInsecureSkipVerify };
        var options = new NatsOptions
        {
            Url = Url,
            Name = Name,
            User = User,
            Password = Password,
            Token = Token,
            Tls = tls,
            RequestTimeout = RequestTimeout,
            ConnectTimeout = ConnectTimeout,
            LoggerFactory = loggerFactory,
        };
        options.Validate();
        return options;
    }
}

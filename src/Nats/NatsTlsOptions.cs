using System.Security.Cryptography.X509Certificates;

namespace CacheProvider.Nats;

/// <summary>TLS settings of a connection.</summary>
public sealed record NatsTlsOptions
{
    /// <summary>
    /// Trust anchors for verifying the server: the server certificate must chain to one of these.
    /// When empty, the operating system's store is used.
    /// </summary>
    public X509Certificate2Collection? CaCertificates { get; init; }

    /// <summary>PEM file with CA certificates; an alternative to <see cref="CaCertificates"/>.</summary>
    public string? CaFile { get; init; }

    /// <summary>Client certificate (with private key) for mutual TLS.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>PEM certificate file for mutual TLS; used with <see cref="KeyFile"/>.</summary>
    public string? CertFile { get; init; }

    /// <summary>PEM private key file for <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; init; }

    /// <summary>Host name to verify in the server certificate; defaults to the URL's host.</summary>
    public string? TargetHost { get; init; }

    /// <summary>
    /// Accept any server certificate. For local development only: it removes all protection against a
    /// man in the middle. A warning is logged on every connection made this way.
    /// </summary>
    public bool InsecureSkipVerify { get; init; }
}

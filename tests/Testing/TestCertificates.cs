using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace CacheProvider.Testing;

/// <summary>
/// A throwaway PKI for TLS tests: a CA, a server certificate for 127.0.0.1 and localhost, and a client
/// certificate, all issued by that CA and written as PEM files to a temporary directory.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string directory) => Directory = directory;

    /// <summary>The folder holding the PEM files (deleted on dispose).</summary>
    public string Directory { get; }

    /// <summary>CA certificate (PEM).</summary>
    public string CaFile => Path.Combine(Directory, "ca.pem");

    /// <summary>Server certificate (PEM), SAN 127.0.0.1 and localhost.</summary>
    public string ServerCertFile => Path.Combine(Directory, "server.pem");

    /// <summary>Server private key (PKCS#8 PEM).</summary>
    public string ServerKeyFile => Path.Combine(Directory, "server-key.pem");

    /// <summary>Client certificate (PEM) for mutual TLS.</summary>
    public string ClientCertFile => Path.Combine(Directory, "client.pem");

    /// <summary>Client private key (PKCS#8 PEM).</summary>
    public string ClientKeyFile => Path.Combine(Directory, "client-key.pem");

    /// <summary>Creates the CA and both certificates.</summary>
    public static TestCertificates Create()
    {
        var certs = new TestCertificates(System.IO.Directory.CreateTempSubdirectory("nats-tls-").FullName);
        var notBefore = DateTimeOffset.UtcNow.AddHours(-1);
        var notAfter = DateTimeOffset.UtcNow.AddDays(1);

        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=CacheProvider Test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(notBefore, notAfter);
        File.WriteAllText(certs.CaFile, ca.ExportCertificatePem());

        var serverNames = new SubjectAlternativeNameBuilder();
        serverNames.AddIpAddress(IPAddress.Loopback);
        serverNames.AddDnsName("localhost");
        Issue(ca, "CN=localhost", serverNames.Build(), "1.3.6.1.5.5.7.3.1", notBefore, notAfter, certs.ServerCertFile, certs.ServerKeyFile);
        Issue(ca, "CN=test-client", null, "1.3.6.1.5.5.7.3.2", notBefore, notAfter, certs.ClientCertFile, certs.ClientKeyFile);
        return certs;
    }

    /// <summary>The client certificate with its private key, as an object.</summary>
    public X509Certificate2 LoadClientCertificate() => X509Certificate2.CreateFromPemFile(ClientCertFile, ClientKeyFile);

    /// <summary>The CA as a trust anchor collection.</summary>
    public X509Certificate2Collection LoadCa()
    {
        var collection = new X509Certificate2Collection();
        collection.ImportFromPemFile(CaFile);
        return collection;
    }

    /// <summary>nats-server <c>tls { }</c> block; <paramref name="verifyClients"/> turns on mutual TLS.</summary>
    public string ServerConfig(bool verifyClients) =>
        $$"""
        tls {
          cert_file: "{{ServerCertFile}}"
          key_file: "{{ServerKeyFile}}"
          ca_file: "{{CaFile}}"
          verify: {{(verifyClients ? "true" : "false")}}
          timeout: 2
        }
        """;

    /// <inheritdoc />
    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Issue(
        X509Certificate2 ca, string subject, X509Extension? names, string usageOid, DateTimeOffset notBefore, DateTimeOffset notAfter, string certFile, string keyFile)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usageOid)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        if (names is not null)
        {
            request.CertificateExtensions.Add(names);
        }

        var serial = new byte[12];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F; // positive
        using var cert = request.Create(ca, notBefore, notAfter, serial);
        File.WriteAllText(certFile, cert.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
    }
}

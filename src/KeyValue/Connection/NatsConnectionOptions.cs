using CacheProvider.KeyValue.Internal;
using NATS.Client.Core;

namespace CacheProvider.Connection;

/// <summary>
/// Bindable settings of the shared NATS.Net connection (the <c>Nats</c> configuration section), used only when the app
/// registered no <see cref="INatsConnection"/> of its own. Secrets (password, token, seeds, credentials) are never
/// logged; never log the <see cref="NatsOpts"/> built from them either (its <c>ToString()</c> prints them).
/// Checked when the host starts (<c>ValidateOnStart</c>): each problem is reported with the setting's name and why,
/// e.g. "Nats:Password is required when Nats:User is set".
/// </summary>
public sealed class NatsConnectionOptions
{
    /// <summary>Seed server URLs, comma separated (<c>nats://</c>, <c>tls://</c>, <c>ws://</c>, <c>wss://</c>).</summary>
    public string Url { get; set; } = "nats://127.0.0.1:4222";

    /// <summary>Client name shown in server monitoring.</summary>
    public string? Name { get; set; }

    /// <summary>User name.</summary>
    public string? User { get; set; }

    /// <summary>Password.</summary>
    public string? Password { get; set; }

    /// <summary>Token.</summary>
    public string? Token { get; set; }

    /// <summary>A file holding the user's NKey seed (<c>SU…</c>): NKey authentication.</summary>
    public string? NKeySeedFile { get; set; }

    /// <summary>A <c>.creds</c> file (user JWT and NKey seed): decentralised JWT authentication.</summary>
    public string? CredsFile { get; set; }

    /// <summary>PEM file with the CA that signs the server certificate.</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>PEM client certificate for mutual TLS.</summary>
    public string? TlsCertFile { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertFile"/>.</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>Start TLS before the server's INFO (servers configured with <c>handshake_first</c>).</summary>
    public bool TlsFirst { get; set; }

    /// <summary>Accept any server certificate: local development only.</summary>
    public bool TlsInsecureSkipVerify { get; set; }

    /// <summary>Timeout of one request to the server (1 ms to 1 day).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Timeout of one connection attempt (1 ms to 1 day).</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// First wait between reconnect attempts after a failed one (NATS.Net doubles it up to <see cref="ReconnectWaitMax"/>).
    /// NATS.Net's own default is 2 s, which alone keeps an app down for up to 2 s after a restarted server is back;
    /// 100 ms here. The first attempt after a disconnect is made at once either way.
    /// </summary>
    public TimeSpan ReconnectWaitMin { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Longest wait between reconnect attempts (NATS.Net's default: 5 s). With 250 ms (+ jitter) a client is back at most
    /// ≈ 0.3 s after its server is; an attempt against a server that is down costs it one refused TCP connect.
    /// </summary>
    public TimeSpan ReconnectWaitMax { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Random extra wait added to each reconnect wait, so many clients do not reconnect in step.</summary>
    public TimeSpan ReconnectJitter { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Applies these settings to <paramref name="opts"/> (e.g. <see cref="NatsOpts.Default"/>).</summary>
    /// <exception cref="ArgumentException">Contradicting settings, such as two authentication methods.</exception>
    public NatsOpts ApplyTo(NatsOpts opts)
    {
        ArgumentNullException.ThrowIfNull(opts);
        Validate();
        var tls = opts.TlsOpts;
        if (TlsCaFile is not null || TlsCertFile is not null || TlsFirst || TlsInsecureSkipVerify)
        {
            tls = tls with
            {
                CaFile = TlsCaFile ?? tls.CaFile,
                CertFile = TlsCertFile ?? tls.CertFile,
                KeyFile = TlsKeyFile ?? tls.KeyFile,
                InsecureSkipVerify = TlsInsecureSkipVerify || tls.InsecureSkipVerify,
                Mode = TlsFirst ? TlsMode.Implicit : tls.Mode,
            };
        }

        var auth = opts.AuthOpts with
        {
            Username = User ?? opts.AuthOpts.Username,
            Password = Password ?? opts.AuthOpts.Password,
            Token = Token ?? opts.AuthOpts.Token,
            CredsFile = CredsFile ?? opts.AuthOpts.CredsFile,
        };
        if (NKeySeedFile is not null)
        {
            // NATS.Net's NKeyFile wants the seed and the public key in the file; a seed file (what "nk -gen user"
            // writes) holds only the seed. The public key is derived from it.
            var (seed, publicKey) = ReadNKeySeed(NKeySeedFile);
            auth = auth with { Seed = seed, NKey = publicKey, NKeyFile = null };
        }

        return opts with
        {
            Url = Url,
            Name = Name ?? opts.Name,
            AuthOpts = auth,
            TlsOpts = tls,
            RequestTimeout = RequestTimeout,
            ConnectTimeout = ConnectTimeout,
            ReconnectWaitMin = ReconnectWaitMin,
            ReconnectWaitMax = ReconnectWaitMax,
            ReconnectJitter = ReconnectJitter,
        };
    }

    /// <summary>The seed in <paramref name="path"/> (first line starting with <c>SU</c>) and its public key.</summary>
    /// <exception cref="ArgumentException">No valid user seed in the file (the message never includes the file's text).</exception>
    private static (string Seed, string PublicKey) ReadNKeySeed(string path)
    {
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (!line.StartsWith("SU", StringComparison.Ordinal))
            {
                continue;
            }

            try
            {
                using var pair = NATS.NKeys.KeyPair.FromSeed(line);
                return (line, pair.GetPublicKey());
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                throw new ArgumentException($"Nats:NKeySeedFile holds no valid user NKey seed: {path}", nameof(path));
            }
        }

        throw new ArgumentException($"Nats:NKeySeedFile holds no user NKey seed (a line starting with SU): {path}", nameof(path));
    }

    /// <summary>
    /// Checks the settings. The message names each bad setting and why (<c>Nats:CredsFile '/x' does not exist</c>);
    /// it shows file paths and URLs without their user info, never a password, token or seed.
    /// </summary>
    /// <exception cref="ArgumentException">Invalid or contradicting settings (all of them, separated by "; ").</exception>
    public void Validate()
    {
        var errors = NatsConnectionOptionsValidator.Errors(this);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors));
        }
    }

    /// <summary>Why <paramref name="path"/> holds no usable user NKey seed, or <see langword="null"/> when it does (never its text).</summary>
    internal static string? SeedFileProblem(string path)
    {
        try
        {
            ReadNKeySeed(path);
            return null;
        }
        catch (ArgumentException)
        {
            return "holds no valid user NKey seed (a line starting with SU, as nk -gen user writes it)";
        }
        catch (IOException ex)
        {
            return "cannot be read: " + ex.GetType().Name;
        }
        catch (UnauthorizedAccessException)
        {
            return "cannot be read: access denied";
        }
    }
}

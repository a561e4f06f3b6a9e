using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using NATS.NKeys;

namespace CacheProvider.KeyValue.Tests.Connection;

/// <summary>
/// A decentralised-auth chain made in the test, as <c>nsc</c> would: an operator signs an account (JetStream enabled),
/// the account signs a user; the server trusts the operator and preloads the account (memory resolver).
/// </summary>
internal sealed class NatsJwtChain : IDisposable
{
    private readonly KeyPair _operator = KeyPair.CreatePair(PrefixByte.Operator);
    private readonly KeyPair _account = KeyPair.CreatePair(PrefixByte.Account);
    private readonly KeyPair _user = KeyPair.CreatePair(PrefixByte.User);

    // JetStream in operator mode needs a system account.
    private readonly KeyPair _system = KeyPair.CreatePair(PrefixByte.Account);

    public NatsJwtChain()
    {
        OperatorJwt = Sign(_operator, _operator.GetPublicKey(), "test-operator", new JsonObject { ["type"] = "operator", ["version"] = 2 });
        AccountJwt = Sign(_operator, _account.GetPublicKey(), "test-account", new JsonObject
        {
            ["type"] = "account",
            ["version"] = 2,
            ["limits"] = new JsonObject
            {
                ["subs"] = -1, ["data"] = -1, ["payload"] = -1, ["imports"] = -1, ["exports"] = -1, ["wildcards"] = true,
                ["conn"] = -1, ["leaf"] = -1, ["mem_storage"] = -1, ["disk_storage"] = -1, ["streams"] = -1, ["consumer"] = -1,
            },
        });
        SystemJwt = Sign(_operator, _system.GetPublicKey(), "SYS", new JsonObject { ["type"] = "account", ["version"] = 2 });
        UserJwt = Sign(_account, _user.GetPublicKey(), "test-user", new JsonObject
        {
            ["type"] = "user",
            ["version"] = 2,
            ["pub"] = new JsonObject(),
            ["sub"] = new JsonObject(),
            ["subs"] = -1,
            ["data"] = -1,
            ["payload"] = -1,
        });
    }

    public string OperatorJwt { get; }

    public string AccountJwt { get; }

    public string UserJwt { get; }

    public string SystemJwt { get; }

    public string UserSeed => _user.GetSeed();

    /// <summary>nats-server configuration trusting the operator, with the account preloaded.</summary>
    public string ServerConfig => $$"""
        operator: {{OperatorJwt}}
        system_account: {{_system.GetPublicKey()}}
        resolver: MEMORY
        resolver_preload: {
          {{_account.GetPublicKey()}}: {{AccountJwt}}
          {{_system.GetPublicKey()}}: {{SystemJwt}}
        }
        """;

    /// <summary>A creds file in the layout <c>nsc</c> writes.</summary>
    public string CredsFileText(string? jwt = null) => $"""
        -----BEGIN NATS USER JWT-----
        {jwt ?? UserJwt}
        ------END NATS USER JWT------

        ************************* IMPORTANT *************************
        NKEY Seed printed below can be used to sign and prove identity.
        NKEYs are sensitive and should be treated as secrets.

        -----BEGIN USER NKEY SEED-----
        {UserSeed}
        ------END USER NKEY SEED------

        *************************************************************
        """;

    /// <summary>A user JWT for the same user key signed by a stranger account: the server must refuse it.</summary>
    public string ForeignUserJwt()
    {
        using var stranger = KeyPair.CreatePair(PrefixByte.Account);
        return Sign(stranger, _user.GetPublicKey(), "stranger-user", new JsonObject { ["type"] = "user", ["version"] = 2 });
    }

    public void Dispose()
    {
        _operator.Dispose();
        _account.Dispose();
        _user.Dispose();
        _system.Dispose();
    }

    private static string Sign(KeyPair issuer, string subject, string name, JsonObject nats)
    {
        var claims = new JsonObject
        {
            ["jti"] = string.Empty,
            ["iat"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["iss"] = issuer.GetPublicKey(),
            ["name"] = name,
            ["sub"] = subject,
            ["nats"] = nats,
        };

        // The id is the hash of the claims without it (what the jwt library does).
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(claims.ToJsonString()));
        var id = new char[Base32.GetEncodedLength(hash)];
        Base32.ToBase32(hash, id);
        claims["jti"] = new string(id).TrimEnd('=');

        var header = Base64Url("""{"typ":"JWT","alg":"ed25519-nkey"}"""u8);
        var payload = Base64Url(Encoding.UTF8.GetBytes(claims.ToJsonString(new JsonSerializerOptions { WriteIndented = false })));
        var signed = Encoding.ASCII.GetBytes(header + "." + payload);
        var signature = new byte[64];
        issuer.Sign(signed, signature);
        return header + "." + payload + "." + Base64Url(signature);
    }

    private static string Base64Url(ReadOnlySpan<byte> data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

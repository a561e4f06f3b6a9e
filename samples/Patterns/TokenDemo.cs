using System.Text;
using CacheProvider.Samples.Expiry;
using CacheProvider.Tokens;

namespace CacheProvider.Samples.Patterns;

/// <summary>A password reset link clicked twice, a race of simultaneous clicks, and a token left to expire.</summary>
internal sealed class TokenDemo(IOneTimeTokens tokens, Narrator say)
{
    private const string Purpose = "password-reset";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        say.Heading("One-time tokens: a reset link used twice");
        var issued = await tokens.IssueAsync(Purpose, Encoding.UTF8.GetBytes("alice@example.com"), TimeSpan.FromMinutes(15), cancellationToken).ConfigureAwait(false);
        say.Say($"issued a reset token for alice, valid 15 min: https://example.com/reset?t={issued.Token[..6]}… ({issued.Token.Length} chars)");

        var first = await tokens.ConsumeAsync(Purpose, issued.Token, cancellationToken).ConfigureAwait(false)
            ?? throw new DemoFailedException("the fresh token was not found");
        say.Say($"first click: token accepted, reset the password of {Encoding.UTF8.GetString(first.Payload.Span)}");

        var second = await tokens.ConsumeAsync(Purpose, issued.Token, cancellationToken).ConfigureAwait(false);
        say.Say($"second click on the same link: {(second is null ? "not found (already used)" : "ACCEPTED AGAIN")}");
        if (second is not null)
        {
            throw new DemoFailedException("a one-time token was consumed twice");
        }

        var raced = await tokens.IssueAsync(Purpose, Encoding.UTF8.GetBytes("bob@example.com"), cancellationToken: cancellationToken).ConfigureAwait(false);
        var clicks = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => tokens.ConsumeAsync(Purpose, raced.Token, cancellationToken))).ConfigureAwait(false);
        var winners = clicks.Count(c => c is not null);
        say.Say($"bob double-clicks 8 times at once: {winners} click accepted, {clicks.Length - winners} refused");
        if (winners != 1)
        {
            throw new DemoFailedException($"{winners} concurrent consumers won, expected exactly 1");
        }

        var forgotten = await tokens.IssueAsync(Purpose, Encoding.UTF8.GetBytes("carol@example.com"), TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
        say.Say("carol's token has a 1 s TTL; she clicks 1.5 s later");
        await Task.Delay(TimeSpan.FromSeconds(1.5), cancellationToken).ConfigureAwait(false);
        var expired = await tokens.ConsumeAsync(Purpose, forgotten.Token, cancellationToken).ConfigureAwait(false);
        say.Say($"carol's click: {(expired is null ? "not found (expired on its own)" : "ACCEPTED")}");
        if (expired is not null)
        {
            throw new DemoFailedException("an expired token was accepted");
        }
    }
}

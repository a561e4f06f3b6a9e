using System.Diagnostics;
using CacheProvider.Samples.Web;

namespace CacheProvider.Tests.Browser;

/// <summary>
/// The sample app in a real browser: headless Chromium opens the home page, uses the session, goes idle past a short
/// idle timeout, and the "session ended" event arrives on the page over server-sent events.
/// </summary>
public sealed class SessionEndedBrowserTests(ITestOutputHelper output)
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(2);

    [Fact]
    public Task Idle_session_ends_and_the_page_shows_it() =>
        DemoInBrowser.RunAsync(output, url => new WebDemoOptions { NatsUrl = url, Port = 0, IdleTimeout = IdleTimeout }, TimeSpan.FromSeconds(90), RunAsync);

    private async Task RunAsync(HeadlessChromium browser, CancellationToken ct)
    {
        Assert.True(await browser.WaitForAsync("document.readyState === 'complete' && document.body.dataset.live === 'yes'", TimeSpan.FromSeconds(20), ct),
            "the page never connected its event stream (/events)");

        // Use the session: two increments and a cart item, each through the page's own buttons.
        await browser.EvaluateAsync("document.getElementById('inc').click()", ct);
        Assert.True(await browser.WaitForAsync("document.getElementById('count').textContent === '1'", TimeSpan.FromSeconds(10), ct), "first +1 did not show");
        await browser.EvaluateAsync("document.getElementById('inc').click()", ct);
        Assert.True(await browser.WaitForAsync("document.getElementById('count').textContent === '2'", TimeSpan.FromSeconds(10), ct), "second +1 did not show");
        await browser.EvaluateAsync("document.getElementById('add').click()", ct);
        Assert.True(await browser.WaitForAsync("document.getElementById('cart').textContent.includes('apple')", TimeSpan.FromSeconds(10), ct), "cart did not show the item");
        var state = await browser.EvaluateAsync("fetch('/api/session').then(r => r.json()).then(s => s.count)", ct);
        Assert.Equal(2, state.GetInt32());
        var idleSince = Stopwatch.StartNew();

        // Idle: the stored TTL is IdleTimeout × (1 + RenewalFraction) = 3 s; the server's marker then reaches the page.
        const string ended = "document.querySelector('li.event.session.idle-timeout')";
        Assert.True(await browser.WaitForAsync(ended, TimeSpan.FromSeconds(30), ct),
            "no 'session ended: idle-timeout' event on the page; events seen: " + (await browser.EvaluateAsync("document.getElementById('events').innerText", ct)).GetString());
        var waited = idleSince.Elapsed;
        var text = (await browser.EvaluateAsync(ended + ".textContent", ct)).GetString();
        output.WriteLine($"after {waited.TotalSeconds:F1} s idle the page shows: {text}");
        Assert.True(waited >= IdleTimeout, $"session reported ended after only {waited.TotalSeconds:F1} s, before the {IdleTimeout.TotalSeconds} s idle timeout");
        Assert.Contains("ended: idle-timeout", text, StringComparison.Ordinal);

        // And it really ended: the same cookie now gets an empty session.
        var after = await browser.EvaluateAsync("fetch('/api/session').then(r => r.json()).then(s => s.count)", ct);
        Assert.Equal(0, after.GetInt32());
    }
}

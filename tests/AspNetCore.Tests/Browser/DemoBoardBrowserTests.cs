using System.Diagnostics;
using System.Text.Json;
using CacheProvider.Samples.Web;

namespace CacheProvider.Tests.Browser;

/// <summary>
/// The web demo's board in a real browser (headless Chromium): a key written from the page with a 3 s TTL leaves the
/// page 3 to 4.5 s after the click (the page's own clock) with reason "expired", when the server's marker arrives; a
/// write on node A shows node B's near copy invalidated; a device whose heartbeats stop goes offline. A screenshot of
/// the board is saved (the path is printed; README's docs/demo-board.png is one of these).
/// </summary>
public sealed class DemoBoardBrowserTests(ITestOutputHelper output)
{
    private const string Key = "browser.t3";
    private static readonly TimeSpan PresenceTtl = TimeSpan.FromSeconds(3);

    [Fact]
    public Task Board_shows_expiry_near_cache_invalidation_and_presence_live() =>
        DemoInBrowser.RunAsync(output, url => new WebDemoOptions { NatsUrl = url, Port = 0, PresenceTtl = PresenceTtl }, TimeSpan.FromSeconds(120), RunAsync);

    private async Task RunAsync(HeadlessChromium browser, CancellationToken ct)
    {
        Assert.True(await browser.WaitForAsync("document.readyState === 'complete' && document.body.dataset.board === 'yes' && document.body.dataset.live === 'yes'", TimeSpan.FromSeconds(20), ct),
            "the board never connected its event streams (/board/events, /events)");

        // Presence: stop the camera's heartbeats from the page; it must go offline once its TTL runs out.
        Assert.True(await browser.WaitForAsync("document.querySelector('#devices [data-device=camera].online')", TimeSpan.FromSeconds(15), ct), "the camera never showed online");
        var stopped = Stopwatch.StartNew();
        await browser.EvaluateAsync("document.querySelector('#devices [data-device=camera] .toggle').click()", ct);
        await browser.EvaluateAsync("document.getElementById('weather').click(); document.getElementById('inc').click()", ct);
        output.WriteLine($"camera heartbeats stopped at {DateTimeOffset.UtcNow:HH:mm:ss.fff}");

        // Near caches: a write on node A from the page; B's copy must be dropped, and B must then read the new value.
        var value = "v" + Environment.ProcessId;
        await browser.EvaluateAsync($"document.getElementById('near-value').value = '{value}'; document.getElementById('near-write').click()", ct);
        Assert.True(await browser.WaitForAsync($"window.board.near && window.board.near.value === '{value}'", TimeSpan.FromSeconds(15), ct), "no near-cache result for the write on node A");
        var near = await browser.EvaluateAsync("window.board.near", ct);
        output.WriteLine("near caches: " + near.GetRawText());
        Assert.True(near.GetProperty("bHeldCopy").GetBoolean(), "node B held no copy before the write, so nothing could be invalidated");
        Assert.Equal(JsonValueKind.Number, near.GetProperty("invalidatedMs").ValueKind);
        Assert.Equal(value, near.GetProperty("bAfter").GetString());
        Assert.Equal(value, (await browser.EvaluateAsync("document.getElementById('near-b').textContent", ct)).GetString());
        Assert.Contains("invalidated in", (await browser.EvaluateAsync("document.getElementById('near-delay').textContent", ct)).GetString(), StringComparison.Ordinal);

        // FusionCache: a Set on node A from the page reaches node B's L1.
        await browser.EvaluateAsync($"document.getElementById('fusion-value').value = 'f{value}'; document.getElementById('fusion-set').click()", ct);
        Assert.True(await browser.WaitForAsync($"document.getElementById('fusion-b').textContent === 'f{value}'", TimeSpan.FromSeconds(15), ct),
            "node B's FusionCache L1 never showed the value set on node A: " + (await browser.EvaluateAsync("document.getElementById('fusion-text').textContent", ct)).GetString());

        // The walkthrough again (5, 10, 15 s) for the screenshot, then our 3 s key, through the page's own form.
        await browser.EvaluateAsync("document.getElementById('seed').click()", ct);
        await browser.EvaluateAsync($"document.getElementById('key-name').value = '{Key}'; document.getElementById('key-ttl').value = '3'; document.getElementById('key-write').click()", ct);
        const string row = $"document.querySelector('#keys [data-key=\"{Key}\"]')";
        Assert.True(await browser.WaitForAsync(row, TimeSpan.FromSeconds(10), ct), $"{Key} never appeared on the board");
        Assert.True(await browser.WaitForAsync(row + ".textContent.includes(' left')", TimeSpan.FromSeconds(5), ct), $"{Key} shows no remaining time");
        Assert.True(await browser.WaitForAsync("!" + row, TimeSpan.FromSeconds(20), ct), $"{Key} was still on the board 20 s later");

        // Timings on the page's clock (performance.now(): click → row gone) and the server's marker.
        var t = await browser.EvaluateAsync($"({{ clicked: window.board.submitted['{Key}'], ended: window.board.ended['{Key}'] }})", ct);
        output.WriteLine("3 s key: " + t.GetRawText());
        var ended = t.GetProperty("ended");
        Assert.Equal("expired", ended.GetProperty("reason").GetString());
        var gone = TimeSpan.FromMilliseconds(ended.GetProperty("at").GetDouble() - t.GetProperty("clicked").GetDouble());
        var lived = TimeSpan.FromMilliseconds(ended.GetProperty("markerMs").GetInt64() - ended.GetProperty("writtenMs").GetInt64());
        var late = ended.GetProperty("lateMs").GetInt64();
        output.WriteLine($"page: gone {gone.TotalSeconds:F3} s after the click; server: marker {lived.TotalSeconds:F3} s after the write, arrived {late} ms after the deadline");
        Assert.True(gone >= TimeSpan.FromSeconds(3) && gone <= TimeSpan.FromSeconds(4.5), $"{Key} left the page {gone.TotalSeconds:F3} s after the click, not within 3-4.5 s");
        Assert.True(lived >= TimeSpan.FromSeconds(3), $"the server's marker came {lived.TotalSeconds:F3} s after the write, before the 3 s TTL");
        Assert.True(late >= 0, $"the marker arrived {late} ms before the key's deadline");
        var line = (await browser.EvaluateAsync($"document.querySelector('#ended li[data-key=\"{Key}\"]').textContent", ct)).GetString();
        Assert.Contains("expired", line, StringComparison.Ordinal);
        Assert.Contains("after its deadline", line, StringComparison.Ordinal);

        // The camera: offline with reason expired, not before its TTL.
        Assert.True(await browser.WaitForAsync("document.querySelector('#devices [data-device=camera].offline')", PresenceTtl + TimeSpan.FromSeconds(15), ct), "the camera never went offline");
        Assert.True(stopped.Elapsed >= PresenceTtl - TimeSpan.FromSeconds(1), $"the camera went offline {stopped.Elapsed.TotalSeconds:F1} s after its heartbeats stopped, before its {PresenceTtl.TotalSeconds} s TTL");
        Assert.Contains("offline (expired)", (await browser.EvaluateAsync("document.querySelector('#devices [data-device=camera] .state').textContent", ct)).GetString(), StringComparison.Ordinal);

        output.WriteLine($"camera offline at {DateTimeOffset.UtcNow:HH:mm:ss.fff}, {stopped.Elapsed.TotalSeconds:F1} s after its heartbeats stopped");
        Assert.True(await browser.WaitForAsync("document.querySelectorAll('#keys .key').length >= 2", TimeSpan.FromSeconds(5), ct), "the replayed walkthrough keys are not on the board");
        await SaveScreenshotAsync(browser, ct);
    }

    private async Task SaveScreenshotAsync(HeadlessChromium browser, CancellationToken ct)
    {
        var png = await browser.ScreenshotAsync(ct);
        Assert.True(png.Length > 10_000, $"screenshot of {png.Length} bytes");
        var dir = Path.Combine(NatsServerLocator.RepositoryRoot, "TestResults");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "demo-board.png");
        await File.WriteAllBytesAsync(path, png, ct);
        output.WriteLine($"screenshot of the board: {path}");
    }
}

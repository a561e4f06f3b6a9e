using CacheProvider.Samples.Web;

namespace CacheProvider.Tests.Browser;

/// <summary>
/// What the browser tests share: a nats-server, the web demo on a free loopback port, headless Chromium on its home
/// page; the browser's log is printed when the test's steps fail. A missing Chromium fails the test on purpose:
/// skipping would let CI go green without ever running a browser.
/// </summary>
internal static class DemoInBrowser
{
    public static async Task RunAsync(
        ITestOutputHelper output, Func<string, WebDemoOptions> options, TimeSpan limit, Func<HeadlessChromium, CancellationToken, Task> steps)
    {
        // CHROMIUM overrides the path (as scripts/install-chromium.sh suggests).
        var chromium = Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } env ? env : HeadlessChromium.DefaultPath;
        Assert.True(File.Exists(chromium), $"Chromium not found at {chromium}: run scripts/install-chromium.sh (./build.sh setup) or set CHROMIUM=/path/to/chromium");

        using var cts = new CancellationTokenSource(limit);
        var ct = cts.Token;
        await using var nats = await NatsServer.StartAsync(output);
        var app = await WebDemo.StartAsync(options(nats.Url), ct);
        try
        {
            var address = new Uri(app.Urls.First() + "/");
            Assert.Equal("127.0.0.1", address.Host);
            output.WriteLine($"app at {address}, chromium {chromium}");
            await using var browser = await HeadlessChromium.StartAsync(chromium, address, ct);
            try
            {
                await steps(browser, ct);
            }
            catch
            {
                output.WriteLine("chromium log:\n" + browser.Log);
                throw;
            }
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
            await app.DisposeAsync();
        }
    }
}

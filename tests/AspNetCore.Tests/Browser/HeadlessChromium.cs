using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CacheProvider.Tests.Browser;

/// <summary>
/// Debian's Chromium, headless, driven over the DevTools protocol with a plain <see cref="ClientWebSocket"/> (no npm,
/// no driver download): enough to open a page, click, and read the DOM. Fresh profile per instance, killed on dispose.
/// </summary>
internal sealed partial class HeadlessChromium : IAsyncDisposable
{
    /// <summary>The browser the project's scripts install (scripts/install-chromium.sh).</summary>
    public const string DefaultPath = "/usr/bin/chromium";

    private readonly Process _process;
    private readonly string _profile;
    private readonly StringBuilder _stderr = new();
    private ClientWebSocket? _socket;
    private int _nextId;

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>What Chromium printed on stderr so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_stderr)
            {
                return _stderr.ToString();
            }
        }
    }

    /// <summary>Starts Chromium showing <paramref name="url"/> and attaches to that page.</summary>
    public static async Task<HeadlessChromium> StartAsync(string executable, Uri url, CancellationToken cancellationToken)
    {
        var profile = Directory.CreateTempSubdirectory("chromium-test-").FullName;
        var info = new ProcessStartInfo(executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--hide-scrollbars", "--window-size=1280,1200", "--user-data-dir=" + profile, "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0", url.ToString(),
        })
        {
            info.ArgumentList.Add(arg);
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + executable);
        var browser = new HeadlessChromium(process, profile);
        var endpoint = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (browser._stderr)
            {
                browser._stderr.AppendLine(e.Data);
            }

            // "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/…": port 0 lets Chromium pick a free one.
            if (DevToolsLine().Match(e.Data) is { Success: true } m)
            {
                endpoint.TrySetResult(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            var port = await endpoint.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            await browser.AttachToPageAsync(port, url, cancellationToken).ConfigureAwait(false);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Evaluates a JavaScript expression in the page (awaiting a promise) and returns its JSON value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        var result = await SendAsync("Runtime.evaluate", new { expression, returnByValue = true, awaitPromise = true }, cancellationToken).ConfigureAwait(false);
        if (result.TryGetProperty("exceptionDetails", out var error))
        {
            throw new InvalidOperationException("page script failed: " + error.GetRawText());
        }

        return result.GetProperty("result").TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>A PNG of what the page shows now (the window: 1280 × 1200 CSS pixels, less the browser frame).</summary>
    public async Task<byte[]> ScreenshotAsync(CancellationToken cancellationToken)
    {
        var result = await SendAsync("Page.captureScreenshot", new { format = "png" }, cancellationToken).ConfigureAwait(false);
        return Convert.FromBase64String(result.GetProperty("data").GetString() ?? "");
    }

    /// <summary>Polls <paramref name="expression"/> until it is truthy; returns false at the deadline.</summary>
    public async Task<bool> WaitForAsync(string expression, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            var value = await EvaluateAsync("!!(" + expression + ")", cancellationToken).ConfigureAwait(false);
            if (value.ValueKind == JsonValueKind.True)
            {
                return true;
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        return false;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _socket?.Abort();
        _socket?.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true); // our own child (and its zygotes/renderers) only
                await _process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token).ConfigureAwait(false);
            }
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException)
        {
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task AttachToPageAsync(int port, Uri url, CancellationToken cancellationToken)
    {
        // The page Chromium opened for the URL argument: its DevTools socket is listed by /json/list.
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        string? socketUrl = null;
        for (var i = 0; i < 100 && socketUrl is null; i++)
        {
            using var targets = JsonDocument.Parse(await http.GetStringAsync(new Uri("json/list", UriKind.Relative), cancellationToken).ConfigureAwait(false));
            foreach (var t in targets.RootElement.EnumerateArray())
            {
                if (t.GetProperty("type").GetString() == "page" && t.GetProperty("url").GetString()?.StartsWith(url.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal) == true)
                {
                    socketUrl = t.GetProperty("webSocketDebuggerUrl").GetString();
                }
            }

            if (socketUrl is null)
            {
                await Task.Delay(100, cancellationToken).ConfigureAwait(false);
            }
        }

        if (socketUrl is null)
        {
            throw new InvalidOperationException($"Chromium never opened a page for {url}");
        }

        _socket = new ClientWebSocket();
        await _socket.ConnectAsync(new Uri(socketUrl), cancellationToken).ConfigureAwait(false);
    }

    private async Task<JsonElement> SendAsync(string method, object parameters, CancellationToken cancellationToken)
    {
        var socket = _socket ?? throw new InvalidOperationException("not attached");
        var id = Interlocked.Increment(ref _nextId);
        var request = JsonSerializer.SerializeToUtf8Bytes(new { id, method, @params = parameters });
        await socket.SendAsync(request, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            // One command at a time, so every message until our id is an event we do not need.
            message.SetLength(0);
            WebSocketReceiveResult r;
            do
            {
                r = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (r.MessageType == WebSocketMessageType.Close)
                {
                    throw new InvalidOperationException("Chromium closed the DevTools socket");
                }

                message.Write(buffer, 0, r.Count);
            }
            while (!r.EndOfMessage);

            using var doc = JsonDocument.Parse(message.ToArray());
            if (doc.RootElement.TryGetProperty("id", out var got) && got.GetInt32() == id)
            {
                if (doc.RootElement.TryGetProperty("error", out var error))
                {
                    throw new InvalidOperationException($"{method} failed: {error.GetRawText()}");
                }

                return doc.RootElement.GetProperty("result").Clone();
            }
        }
    }

    [GeneratedRegex(@"DevTools listening on ws://[^:]+:(\d+)/")]
    private static partial Regex DevToolsLine();
}

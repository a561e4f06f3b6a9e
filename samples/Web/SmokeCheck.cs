using System.Net;
using System.Text.Json;

namespace CacheProvider.Samples.Web;

/// <summary><c>--smoke</c>: exercises every page of a running app once, prints what it saw; true when all behaved.</summary>
internal static class SmokeCheck
{
    public static async Task<bool> RunAsync(Uri baseUri, bool board, CancellationToken cancellationToken)
    {
        using var handler = new HttpClientHandler { CookieContainer = new CookieContainer() };
        using var http = new HttpClient(handler) { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(15) };
        var ok = true;
        void Check(bool condition, string what)
        {
            Console.WriteLine($"  {(condition ? "ok  " : "FAIL")} {what}");
            ok &= condition;
        }

        var home = await http.GetStringAsync("/", cancellationToken);
        Check(home.Contains("Keys with their own TTL", StringComparison.Ordinal) && home.Contains("/board.js", StringComparison.Ordinal), "GET / serves the board");
        var script = await http.GetStringAsync("/board.js", cancellationToken);
        Check(script.Contains("/board/events", StringComparison.Ordinal), "GET /board.js serves the board's script");
        var events = await http.GetStringAsync("/expirations", cancellationToken);
        Check(events.Contains("EventSource", StringComparison.Ordinal), "GET /expirations serves the live page");

        var c1 = await PostJsonAsync(http, "/api/counter", cancellationToken);
        var c2 = await PostJsonAsync(http, "/api/counter", cancellationToken);
        Check(c1.GetProperty("count").GetInt32() == 1 && c2.GetProperty("count").GetInt32() == 2, $"session counter: {c1.GetProperty("count")} then {c2.GetProperty("count")}");
        var cart = await PostJsonAsync(http, "/api/cart?item=apple", cancellationToken);
        Check(cart.GetProperty("cart").GetArrayLength() == 1, $"cart after one add: {cart.GetProperty("cart")}");

        var city = "smoke" + Environment.ProcessId;
        var w1 = JsonDocument.Parse(await http.GetStringAsync($"/api/weather/{city}", cancellationToken)).RootElement;
        var w2 = JsonDocument.Parse(await http.GetStringAsync($"/api/weather/{city}", cancellationToken)).RootElement;
        Check(w1.GetProperty("source").GetString() == "backend" && w2.GetProperty("source").GetString() == "cache",
            $"cache-aside: first from {w1.GetProperty("source")}, then from {w2.GetProperty("source")}");

        // FusionCache: both nodes hold v1 in L1; a Set of v2 on node A reaches node B's L1 through the NATS backplane.
        var v1 = "v1-" + Environment.ProcessId;
        var v2 = "v2-" + Environment.ProcessId;
        var f1 = await PostJsonAsync(http, $"/api/fusion?value={v1}", cancellationToken);
        var f2 = await PostJsonAsync(http, $"/api/fusion?value={v2}", cancellationToken);
        var fb = f2.GetProperty("b").GetString();
        for (var i = 0; i < 50 && fb != v2; i++)
        {
            await Task.Delay(100, cancellationToken);
            fb = JsonDocument.Parse(await http.GetStringAsync("/api/fusion", cancellationToken)).RootElement.GetProperty("b").GetString();
        }

        Check(f1.GetProperty("b").GetString() == v1 && fb == v2, $"FusionCache backplane: node B had {f1.GetProperty("b")}, then {fb} after node A set {v2}");

        // Live page: subscribe, end the session, expect the "removed" event on the stream.
        using var sseCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        sseCts.CancelAfter(TimeSpan.FromSeconds(10));
        using var sse = await http.GetAsync("/events", HttpCompletionOption.ResponseHeadersRead, sseCts.Token);
        using var reader = new StreamReader(await sse.Content.ReadAsStreamAsync(sseCts.Token));
        _ = await reader.ReadLineAsync(sseCts.Token); // ": connected"
        await PostJsonAsync(http, "/api/logout", cancellationToken);
        string? seen = null;
        try
        {
            while (await reader.ReadLineAsync(sseCts.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Contains("\"removed\"", StringComparison.Ordinal))
                {
                    seen = line[6..];
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        Check(seen is not null, $"server-sent event after logout: {seen ?? "none within 10 s"}");
        if (board)
        {
            ok &= await BoardSmoke.RunAsync(http, Check, cancellationToken);
        }

        return ok;
    }

    private static async Task<JsonElement> PostJsonAsync(HttpClient http, string url, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsync(url, null, cancellationToken);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken)).RootElement.Clone();
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace CacheProvider.Samples.Web;

/// <summary><c>--smoke</c>, the board's part: a key with a 1 s TTL expires on the board's stream, node B's near copy is
/// invalidated by a write on node A, the devices are online, and bad input is refused.</summary>
internal static class BoardSmoke
{
    public static async Task<bool> RunAsync(HttpClient http, Action<bool, string> check, CancellationToken cancellationToken)
    {
        var ok = true;
        void Check(bool condition, string what)
        {
            check(condition, what);
            ok &= condition;
        }

        using var sseCts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        sseCts.CancelAfter(TimeSpan.FromSeconds(15));
        using var sse = await http.GetAsync("/board/events", HttpCompletionOption.ResponseHeadersRead, sseCts.Token);
        using var reader = new StreamReader(await sse.Content.ReadAsStreamAsync(sseCts.Token));
        var key = "smoke-" + Environment.ProcessId;
        var clock = Stopwatch.StartNew();
        using (var write = await http.PostAsync($"/api/board/keys?key={key}&ttl=1", null, cancellationToken))
        {
            Check(write.IsSuccessStatusCode, $"POST /api/board/keys {key} with a 1 s TTL: {(int)write.StatusCode}");
        }

        JsonElement? ended = null;
        try
        {
            while (ended is null && await reader.ReadLineAsync(sseCts.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    var e = JsonDocument.Parse(line[6..]).RootElement;
                    if (e.GetProperty("type").GetString() == "key-ended" && e.GetProperty("key").GetString() == key)
                    {
                        ended = e.Clone();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }

        var reason = ended?.GetProperty("reason").GetString();
        Check(reason == "expired" && clock.Elapsed >= TimeSpan.FromSeconds(1),
            $"board stream: {key} ended after {clock.Elapsed.TotalSeconds:F1} s, reason {reason ?? "none within 15 s"}, marker arrived {(ended?.GetProperty("lateMs").ToString() ?? "?")} ms after its deadline");

        var near = JsonDocument.Parse(await (await http.PostAsync("/api/near?value=smoke", null, cancellationToken)).Content.ReadAsStringAsync(cancellationToken)).RootElement;
        Check(near.GetProperty("bHeldCopy").GetBoolean() && near.GetProperty("invalidatedMs").ValueKind == JsonValueKind.Number && near.GetProperty("bAfter").GetString() == "smoke",
            $"near caches: B held {near.GetProperty("bBefore")}, invalidated after {near.GetProperty("invalidatedMs")} ms, then read {near.GetProperty("bAfter")}");

        var devices = JsonDocument.Parse(await http.GetStringAsync("/api/devices", cancellationToken)).RootElement.GetProperty("online");
        Check(devices.EnumerateArray().Any(d => d.GetString() == "thermostat"), $"presence: online devices {devices}");

        using var bad = await http.PostAsync("/api/board/keys?key=a%20b&ttl=0", null, cancellationToken);
        Check(bad.StatusCode == HttpStatusCode.BadRequest, $"a bad key and TTL are refused: {(int)bad.StatusCode}");
        return ok;
    }
}

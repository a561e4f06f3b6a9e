using System.Globalization;

namespace CacheProvider.Samples.Web;

/// <summary>The app's pages: the live board and the plain expirations page (no build step, no external assets).</summary>
internal static class Pages
{
    private const string Style = "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto}li{font-family:monospace}</style>";

    /// <summary>The live board (Board/board.html, embedded) with this app's session settings filled in.</summary>
    public static string Home(WebDemoOptions options) => BoardTemplate
        .Replace("{{STORE}}", options.StockRedisConfiguration is not null ? "stock DistributedSession over RedisCache" : options.StockSessions ? "stock DistributedSession over AddNatsDistributedCache" : "AddNatsSessionStore", StringComparison.Ordinal)
        .Replace("{{IDLE}}", options.IdleTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static readonly string BoardTemplate = Asset("board.html");

    /// <summary>The board's script.</summary>
    public static readonly string BoardScript = Asset("board.js");

    /// <summary>The board's style sheet.</summary>
    public static readonly string BoardStyle = Asset("board.css");

    public static readonly string Expirations = $$"""
        <!doctype html><html><head><meta charset="utf-8"><title>Expirations</title>{{Style}}</head><body>
        <h1>Sessions and cache entries that ended</h1><ul id="events"></ul>
        <script>{{EventScript}}</script></body></html>
        """;

    private static string Asset(string name)
    {
        using var stream = typeof(Pages).Assembly.GetManifestResourceStream("Board." + name)
            ?? throw new InvalidOperationException($"embedded resource Board.{name} is missing");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private const string EventScript = """
        const es = new EventSource('/events');
        es.onopen = () => document.body.dataset.live = 'yes';
        es.onmessage = m => { const e = JSON.parse(m.data); const li = document.createElement('li');
          li.className = 'event ' + e.kind + ' ' + e.reason;
          li.textContent = e.at + ' ' + e.kind + ' ' + e.key + '… ended: ' + e.reason;
          document.getElementById('events').prepend(li); };
        """;
}

using System.Globalization;

namespace CacheProvider.Samples.Web;

/// <summary>The app's two HTML pages (no build step, no external assets).</summary>
internal static class Pages
{
    private const string Style = "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto}li{font-family:monospace}</style>";

    public static string Home(WebDemoOptions options) => $$"""
        <!doctype html><html><head><meta charset="utf-8"><title>CacheProvider web demo</title>{{Style}}</head><body>
        <h1>Sessions and cache on NATS KV</h1>
        <p>Session store: <b>{{(options.StockRedisConfiguration is not null ? "stock DistributedSession over RedisCache" : options.StockSessions ? "stock DistributedSession over AddNatsDistributedCache" : "AddNatsSessionStore")}}</b>,
           idle timeout <b id="idle">{{options.IdleTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}}</b> s.</p>
        <h2>Session counter and cart</h2>
        <p>Count: <b id="count">0</b> <button id="inc" onclick="inc()">+1</button></p>
        <p>Cart: <span id="cart">[]</span> <button id="add" onclick="add()">add an apple</button> <button id="logout" onclick="logout()">end session</button></p>
        <h2>Cache-aside</h2>
        <p><button id="weather" onclick="weather()">weather in Oslo</button> <span id="forecast"></span></p>
        <h2>Live: sessions and cache entries that ended</h2>
        <ul id="events"></ul>
        <script>
        async function j(method, url){ const r = await fetch(url, {method, credentials:'same-origin'}); return r.json(); }
        async function inc(){ const r = await j('POST','/api/counter'); document.getElementById('count').textContent = r.count; }
        async function add(){ const r = await j('POST','/api/cart?item=apple'); document.getElementById('cart').textContent = JSON.stringify(r.cart); }
        async function logout(){ await j('POST','/api/logout'); document.getElementById('count').textContent = '0'; document.getElementById('cart').textContent = '[]'; }
        async function weather(){ const r = await j('GET','/api/weather/oslo'); document.getElementById('forecast').textContent = r.forecast + ' (from ' + r.source + ')'; }
        {{EventScript}}
        j('GET','/api/session').then(r => { document.getElementById('count').textContent = r.count; document.getElementById('cart').textContent = JSON.stringify(r.cart); });
        </script></body></html>
        """;

    public static readonly string Expirations = $$"""
        <!doctype html><html><head><meta charset="utf-8"><title>Expirations</title>{{Style}}</head><body>
        <h1>Sessions and cache entries that ended</h1><ul id="events"></ul>
        <script>{{EventScript}}</script></body></html>
        """;

    private const string EventScript = """
        const es = new EventSource('/events');
        es.onopen = () => document.body.dataset.live = 'yes';
        es.onmessage = m => { const e = JSON.parse(m.data); const li = document.createElement('li');
          li.className = 'event ' + e.kind + ' ' + e.reason;
          li.textContent = e.at + ' ' + e.kind + ' ' + e.key + '… ended: ' + e.reason;
          document.getElementById('events').prepend(li); };
        """;
}

namespace CacheProvider.Bench.Harness;

/// <summary>What every metric gets: the one server both clients use, where the JS scripts are, and the log.</summary>
/// <param name="ServerUrl"><c>nats://127.0.0.1:port</c> of the nats-server this run started.</param>
/// <param name="JsDirectory">The repository's <c>js/</c> folder (package.json, node_modules, bench/*.mjs).</param>
/// <param name="Log">Diagnostics (per-repetition values, child process errors); stdout carries only results.</param>
/// <param name="ServerPid">The nats-server's process id (for server CPU per operation).</param>
internal sealed record BenchContext(string ServerUrl, string JsDirectory, TextWriter Log, int? ServerPid = null)
{
    /// <summary>Path of a script in <c>js/bench</c>.</summary>
    public string Script(string name) => Path.Combine(JsDirectory, "bench", name);
}

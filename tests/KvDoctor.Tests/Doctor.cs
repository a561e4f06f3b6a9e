namespace CacheProvider.KvDoctor.Tests;

/// <summary>Runs kv-doctor in-process and captures its output.</summary>
internal static class Doctor
{
    public static async Task<(int Code, string Out, string Err)> RunAsync(ITestOutputHelper output, params string[] args)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var code = await KvDoctorApp.RunAsync(args, o, e, cts.Token);
        output.WriteLine($"$ kv-doctor {string.Join(' ', args)}  -> {code}");
        output.WriteLine(o.ToString());
        output.WriteLine(e.ToString());
        return (code, o.ToString(), e.ToString());
    }
}

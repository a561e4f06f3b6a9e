using System.Diagnostics;
using System.Text;

namespace CacheProvider.Samples.Tests;

/// <summary>
/// Runs the built cluster sample (samples/Cluster) as its own process with <c>--smoke</c>, as <c>./build.sh demo
/// cluster --smoke</c> does: its own nats-server, three silo processes and a client; it kills one silo and exits 0
/// only when every step behaved. Its output is printed whatever happens.
/// </summary>
public sealed class ClusterSampleTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(240);

    [Fact]
    public async Task The_cluster_sample_smoke_run_kills_a_silo_moves_its_grains_and_reminders_and_exits_0()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "CacheProvider.Samples.Cluster.dll");
        Assert.True(File.Exists(dll), dll + " was not built next to the tests");

        var psi = new ProcessStartInfo(DotnetHost(), [dll, "--smoke"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.Environment["NATS_SERVER"] = NatsServerLocator.ServerPath;
        psi.Environment.Remove("NATS_URL"); // the sample must start (and stop) its own server
        var log = new StringBuilder();
        void Append(string? line)
        {
            if (line is not null)
            {
                lock (log)
                {
                    log.AppendLine(line);
                }
            }
        }

        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = true;
        using (var timeout = new CancellationTokenSource(Limit))
        {
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                exited = false;
                process.Kill(entireProcessTree: true); // our child, its silos and the nats-server it started
                await process.WaitForExitAsync(CancellationToken.None);
            }
        }

        process.WaitForExit(); // drains the redirected output
        string text;
        lock (log)
        {
            text = log.ToString();
        }

        output.WriteLine(text);
        Assert.True(exited, $"the smoke run did not exit within {Limit.TotalSeconds} s");
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("smoke: the whole story behaved", text, StringComparison.Ordinal);
        Assert.Contains("reactivated on the survivors with their stored state", text, StringComparison.Ordinal);
        Assert.DoesNotContain("FAIL", text, StringComparison.Ordinal);
    }

    /// <summary>The dotnet host running these tests (the CLI exports DOTNET_HOST_PATH), else dotnet on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}

using System.Diagnostics;

namespace CacheProvider.Hybrid.Tests;

/// <summary>
/// An app node in its own OS process (tests/Hybrid.Node, run as <c>dotnet CacheProvider.Hybrid.Node.dll</c>), driven one
/// command per line. Disposing asks it to quit and, if it does not, kills it by its process id.
/// </summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReplyLimit = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly ITestOutputHelper _output;
    private readonly string _name;

    private NodeProcess(Process process, ITestOutputHelper output, string name) => (_process, _output, _name) = (process, output, name);

    public int Id => _process.Id;

    public static async Task<NodeProcess> StartAsync(string natsUrl, string bucket, string name, ITestOutputHelper output)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "CacheProvider.Hybrid.Node.dll");
        Assert.True(File.Exists(dll), dll + " was not built next to the tests");
        var psi = new ProcessStartInfo(DotnetHost(), [dll, natsUrl, bucket])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        var process = new Process { StartInfo = psi };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                try
                {
                    output.WriteLine($"[{name} stderr] {e.Data}");
                }
                catch (InvalidOperationException)
                {
                    // the test already ended
                }
            }
        };
        Assert.True(process.Start());
        process.BeginErrorReadLine();
        var node = new NodeProcess(process, output, name);
        try
        {
            Assert.Equal("ready", await node.ReadLineAsync());
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }

        return node;
    }

    /// <summary>Sends one command and returns its reply line.</summary>
    public async Task<string> SendAsync(string command)
    {
        await _process.StandardInput.WriteLineAsync(command);
        await _process.StandardInput.FlushAsync();
        var reply = await ReadLineAsync();
        _output.WriteLine($"[{_name}] {command} → {reply}");
        Assert.False(reply.StartsWith("error", StringComparison.Ordinal), $"{_name}: {command} → {reply}");
        return reply;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                await _process.StandardInput.WriteLineAsync("quit");
                _process.StandardInput.Close();
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException)
        {
            // it did not quit in time: end it (only this process, by its id)
        }
        finally
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }

            _process.Dispose();
        }
    }

    private async Task<string> ReadLineAsync()
    {
        using var limit = new CancellationTokenSource(ReplyLimit);
        var line = await _process.StandardOutput.ReadLineAsync(limit.Token);
        return line ?? throw new InvalidOperationException($"{_name} (pid {_process.Id}) closed its output; exit code {(_process.HasExited ? _process.ExitCode : -1)}");
    }

    /// <summary>The dotnet host running these tests (the CLI exports DOTNET_HOST_PATH), else dotnet on the PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
}

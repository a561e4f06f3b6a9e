using System.Diagnostics;

namespace CacheProvider.Testing;

/// <summary>Finds a server binary the project provisions with one of its scripts/get-*.sh.</summary>
internal static class ToolLocator
{
    /// <summary>The path in <paramref name="environmentVariable"/> if it exists, else what <paramref name="script"/> prints.</summary>
    public static string Locate(string environmentVariable, string script, string what)
    {
        var fromEnv = Environment.GetEnvironmentVariable(environmentVariable);
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(fromEnv))
        {
            return fromEnv;
        }

        var psi = new ProcessStartInfo("bash", [Path.Combine(NatsServerLocator.RepositoryRoot, "scripts", script)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        var error = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd().Trim();
        p.WaitForExit();
        if (p.ExitCode != 0 || !File.Exists(output))
        {
            throw new InvalidOperationException($"No {what} available: {error.Result}");
        }

        return output;
    }
}

/// <summary>Kills servers a crashed test left behind when the test process exits.</summary>
internal static class ProcessTracker
{
    private static readonly List<Process> Processes = [];

    static ProcessTracker() => AppDomain.CurrentDomain.ProcessExit += (_, _) =>
    {
        lock (Processes)
        {
            foreach (var p in Processes)
            {
                try
                {
                    if (!p.HasExited)
                    {
                        p.Kill();
                    }
                }
                catch (InvalidOperationException)
                {
                }
            }
        }
    };

    public static void Add(Process p)
    {
        lock (Processes)
        {
            Processes.RemoveAll(x =>
            {
                try
                {
                    return x.HasExited;
                }
                catch (InvalidOperationException)
                {
                    return true;
                }
            });
            Processes.Add(p);
        }
    }
}

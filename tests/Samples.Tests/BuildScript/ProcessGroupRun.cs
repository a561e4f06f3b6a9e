using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace CacheProvider.Samples.Tests.BuildScript;

/// <summary>
/// A command run the way a user runs it in a terminal: its own process group and session (<c>setsid</c>, which
/// execs in place, so the group's id is the PID we hold), SIGINT and SIGQUIT at their defaults whatever the test
/// runner inherited (<c>env --default-signal</c>; an ignored SIGINT would make Ctrl+C a no-op), stdin closed, stdout
/// and stderr collected together. Stopping sends SIGINT to the whole group, as Ctrl+C does.
/// </summary>
internal sealed partial class ProcessGroupRun : IDisposable
{
    private const int SigInt = 2;
    private const int SigKill = 9;
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ProcessGroupRun(Process process) => _process = process;

    /// <summary>The process group (and session) id: the PID of the command itself.</summary>
    public int GroupId => _process.Id;

    /// <summary>Everything printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Starts <paramref name="command"/> with <paramref name="arguments"/> in <paramref name="directory"/>.</summary>
    public static ProcessGroupRun Start(string directory, string command, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var psi = new ProcessStartInfo("env")
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--default-signal=INT,QUIT", "setsid", command, .. arguments])
        {
            psi.ArgumentList.Add(a);
        }

        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                psi.Environment.Remove(name);
            }
            else
            {
                psi.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = psi };
        var run = new ProcessGroupRun(process);
        process.OutputDataReceived += (_, e) => run.Append(e.Data);
        process.ErrorDataReceived += (_, e) => run.Append(e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException("could not start " + command);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return run;
    }

    /// <summary>Waits until the output contains <paramref name="text"/> (true), the command exits, or the time is up.</summary>
    public async Task<bool> WaitForOutputAsync(string text, TimeSpan limit)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit)
        {
            if (Output.Contains(text, StringComparison.Ordinal))
            {
                return true;
            }

            if (_process.HasExited)
            {
                _process.WaitForExit(); // drains the redirected output
                return Output.Contains(text, StringComparison.Ordinal);
            }

            await Task.Delay(100);
        }

        return false;
    }

    /// <summary>Waits for the command to exit; false when it is still running at the limit.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }

        _process.WaitForExit(); // drains the redirected output
        return true;
    }

    /// <summary>Ctrl+C: SIGINT to every process of the group.</summary>
    public void Interrupt() => _ = Kill(-GroupId, SigInt);

    /// <summary>Processes still in the command's process group (none once it ended cleanly).</summary>
    public IReadOnlyList<string> Survivors()
    {
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || ReadStat(pid) is not { } stat)
            {
                continue;
            }

            // /proc/PID/stat: "pid (comm) state ppid pgrp session ..."; comm may hold spaces and parentheses.
            // A zombie (state Z) has ended and only waits for its parent to collect it.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length > 2 && fields[0] != "Z" && fields[2] == GroupId.ToString(CultureInfo.InvariantCulture))
            {
                found.Add($"{pid} {Command(pid)}");
            }
        }

        return found;
    }

    /// <summary>The nats-servers the command said it started ("(pid N)") that still run.</summary>
    public IReadOnlyList<int> LiveNatsServers()
    {
        var live = new List<int>();
        foreach (Match m in StartedPid().Matches(Output))
        {
            var pid = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            if (Command(pid).Contains("nats-server", StringComparison.Ordinal))
            {
                live.Add(pid);
            }
        }

        return live;
    }

    /// <summary>Last resort after a failed check: SIGKILL to the group and to the servers it left (all started by us).</summary>
    public void KillEverything()
    {
        foreach (var pid in LiveNatsServers())
        {
            _ = Kill(pid, SigKill);
        }

        _ = Kill(-GroupId, SigKill);
    }

    public void Dispose() => _process.Dispose();

    private static string? ReadStat(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    [GeneratedRegex(@"started \S*nats-server \(pid (\d+)\)")]
    private static partial Regex StartedPid();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}

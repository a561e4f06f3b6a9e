using System.Diagnostics;

namespace CacheProvider.Samples.Tests.BuildScript;

/// <summary>
/// Every <c>./build.sh</c> form README.md documents, run literally from the repository root as a user would: set-up,
/// build and all. A long-running form must print its URL or first output within a bound, then stop cleanly on Ctrl+C
/// (SIGINT to its process group): exit 0 or 130, nothing of its group left, and no nats-server it started still
/// running. A form that ends by itself must end with its expected code and output. A command that exits early or
/// prints nothing fails with its output.
/// </summary>
/// <remarks>
/// The environment only points at the test's nats-server (<c>NATS_SERVER</c>, as <c>./build.sh</c> itself exports)
/// and moves the web demo to a free port (<c>WEB_DEMO_PORT=0</c>: 5080 may be taken on a CI machine); the commands are
/// exactly the documented ones. The solution is built (Release) before tests run, so each form's build is a no-op.
/// </remarks>
public sealed class DocumentedCommandTests(ITestOutputHelper output)
{
    /// <summary>One documented form per line: arguments | <c>interrupt</c> or <c>exit N</c> | text it must print.</summary>
    private const string Table = """
        demo                  | interrupt | web demo: http://127.0.0.1:
        demo web              | interrupt | web demo: http://127.0.0.1:
        demo web --smoke      | exit 0    | smoke: all pages behaved
        demo --smoke          | exit 0    | smoke: all pages behaved
        demo expiry           | interrupt | Part 1
        demo patterns         | interrupt | Leased lock:
        demo silo             | interrupt | silo up (
        demo silo --smoke     | exit 0    | smoke: the whole story behaved
        demo cluster          | interrupt | started silo
        demo cluster --smoke  | exit 0    | smoke: the whole story behaved
        bench --list          | exit 0    | bdn_alloc:
        setup                 | exit 0    | nats-server:
        demo nonsense         | exit 2    | usage: ./build.sh
        bench nonsense        | exit 2    | usage: ./build.sh
        nonsense              | exit 2    | usage: ./build.sh
        setup nonsense        | exit 2    | usage: ./build.sh
        """;

    /// <summary>Time to print the first expected output: includes set-up (restore) and a no-op build on a busy box.</summary>
    private static readonly TimeSpan StartLimit = TimeSpan.FromSeconds(240);

    /// <summary>Time to stop after Ctrl+C (the silo waits up to 15 s for its own stop).</summary>
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(60);

    /// <summary>Time a process of the group may take to go once the script itself has exited.</summary>
    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(10);

    public static TheoryData<string, string, string> Forms()
    {
        var data = new TheoryData<string, string, string>();
        foreach (var line in Table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            data.Add(cells[0], cells[1], cells[2]);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public async Task Documented_command_runs_as_written(string arguments, string ending, string expected)
    {
        var root = NatsServerLocator.RepositoryRoot;
        var environment = new Dictionary<string, string?>
        {
            ["NATS_SERVER"] = NatsServerLocator.ServerPath,
            ["NATS_URL"] = null, // the demos must start (and stop) their own server
            ["WEB_DEMO_PORT"] = "0",
        };
        // `dotnet test` hands its MSBuild settings down; the nested `dotnet run` must find its own.
        foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
        {
            if (name.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase))
            {
                environment[name] = null;
            }
        }

        var clock = Stopwatch.StartNew();
        using var run = ProcessGroupRun.Start(root, "./build.sh", arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries), environment);
        var failure = ending == "interrupt"
            ? await InterruptAsync(run, expected)
            : await AwaitExitAsync(run, int.Parse(ending["exit ".Length..], System.Globalization.CultureInfo.InvariantCulture), expected);
        failure ??= await LeftoversAsync(run);
        output.WriteLine($"./build.sh {arguments}: {clock.Elapsed.TotalSeconds:F1} s, exit {(run.HasExited ? run.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")}");
        output.WriteLine(run.Output);
        if (failure is not null)
        {
            run.KillEverything();
            Assert.Fail($"./build.sh {arguments}: {failure}\n--- its output ---\n{run.Output}");
        }
    }

    private static async Task<string?> InterruptAsync(ProcessGroupRun run, string expected)
    {
        if (!await run.WaitForOutputAsync(expected, StartLimit))
        {
            return run.HasExited
                ? $"exited (code {run.ExitCode}) without printing '{expected}'"
                : $"did not print '{expected}' within {StartLimit.TotalSeconds} s";
        }

        if (run.HasExited)
        {
            return $"printed '{expected}' but then exited by itself (code {run.ExitCode}) instead of running until Ctrl+C";
        }

        run.Interrupt();
        if (!await run.WaitForExitAsync(StopLimit))
        {
            return $"still running {StopLimit.TotalSeconds} s after Ctrl+C (SIGINT to its process group)";
        }

        // 0: the app stopped cleanly and bash went on to exit 0; 130: the app (or bash) ended on SIGINT as it should.
        return run.ExitCode is 0 or 130 ? null : $"exited with code {run.ExitCode} after Ctrl+C (expected 0 or 130)";
    }

    private static async Task<string?> AwaitExitAsync(ProcessGroupRun run, int code, string expected)
    {
        if (!await run.WaitForExitAsync(StartLimit))
        {
            return $"did not exit within {StartLimit.TotalSeconds} s";
        }

        if (run.ExitCode != code)
        {
            return $"exited with code {run.ExitCode}, expected {code}";
        }

        return run.Output.Contains(expected, StringComparison.Ordinal) ? null : $"exited {code} without printing '{expected}'";
    }

    private static async Task<string?> LeftoversAsync(ProcessGroupRun run)
    {
        if (!run.HasExited)
        {
            return null; // already reported
        }

        // The script has ended; a process of its group may still be on its way out: give it a few seconds.
        var clock = Stopwatch.StartNew();
        IReadOnlyList<string> survivors;
        IReadOnlyList<int> servers;
        while (((survivors = run.Survivors()).Count > 0 || (servers = run.LiveNatsServers()).Count > 0) && clock.Elapsed < ExitGrace)
        {
            await Task.Delay(200);
        }

        servers = run.LiveNatsServers();
        return survivors.Count == 0 && servers.Count == 0
            ? null
            : $"left processes behind: group [{string.Join("; ", survivors)}], nats-server pids [{string.Join(", ", servers)}]";
    }
}

using System.Globalization;

namespace CacheProvider.Bench.Harness;

/// <summary>
/// A metric whose sides each talk to one server process: the runner then also prints that server's CPU per operation
/// (from <c>/proc/&lt;pid&gt;/stat</c>), for ours and the peer. On two shared cores it shows how much of a gap is the
/// server's own cost (the floor of the comparison) and how much is the client's.
/// </summary>
internal interface IServerCpuMetric
{
    /// <summary>The server process <paramref name="side"/> talks to; null: no CPU line for this metric.</summary>
    int? ServerPid(Side side);

    /// <summary>Operations the last measurement sent the server (the fill included).</summary>
    long LastOperations { get; }

    /// <summary>Name of the CPU line, e.g. <c>cache_set_1KiB_server_cpu_us_per_op</c>.</summary>
    string ServerCpuOutput { get; }
}

/// <summary>Reads a process's user + system CPU time.</summary>
internal static class ServerCpu
{
    // USER_HZ: 100 on every Linux this runs on (the kernel's ABI constant for /proc tick counts).
    private const double TicksPerSecond = 100;

    /// <summary>CPU seconds used so far by <paramref name="pid"/> (all its threads), or null when it cannot be read.</summary>
    public static double? Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");

            // The command name (field 2) may contain spaces; the fields after its closing parenthesis are fixed.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (utime + stime) / TicksPerSecond;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }
}

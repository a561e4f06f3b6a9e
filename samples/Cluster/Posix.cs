using System.Runtime.InteropServices;

namespace CacheProvider.Samples.Cluster;

/// <summary>kill(2), for signalling exactly the processes this app started, by PID.</summary>
internal static partial class Posix
{
    public const int SigKill = 9;
    public const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);
}

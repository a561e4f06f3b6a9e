using System.Runtime.CompilerServices;

namespace CacheProvider.Testing;

/// <summary>
/// Test processes run several test classes at once on 2 cores, and some tests block pool threads on purpose (the
/// synchronous <c>IDistributedCache</c> members block on the asynchronous ones). The pool adds threads slowly (about one
/// a second once past its minimum), so a few blocked threads could delay every timer and continuation in the process
/// — heartbeats, renewals, watches — by seconds. A higher minimum removes that artefact of the test host.
/// </summary>
internal static class TestThreadPool
{
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255", Justification = "The test host has no entry point of ours; this must run before any test.")]
    [ModuleInitializer]
    internal static void RaiseMinimum()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), Math.Max(io, 32));
    }
}

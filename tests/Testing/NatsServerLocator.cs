
namespace CacheProvider.Testing;

/// <summary>Finds the nats-server binary the project provisions (scripts/get-nats-server.sh).</summary>
public static class NatsServerLocator
{
    private static readonly Lazy<string> Path = new(Locate);

    /// <summary>Absolute path of a nats-server &gt;= 2.12.1.</summary>
    public static string ServerPath => Path.Value;

    /// <summary>The repository root (folder holding CacheProvider.sln).</summary>
    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "CacheProvider.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("CacheProvider.sln not found above " + AppContext.BaseDirectory);
        }
    }

    private static string Locate() => ToolLocator.Locate("NATS_SERVER", "get-nats-server.sh", "nats-server");
}

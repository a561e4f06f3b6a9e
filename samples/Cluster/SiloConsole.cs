namespace CacheProvider.Samples.Cluster;

/// <summary>Writes <see cref="SiloEvent"/> lines on stdout, whole lines at a time (grains and the reporter write concurrently).</summary>
internal sealed class SiloConsole
{
    private readonly Lock _gate = new();

    public void Write(string line)
    {
        lock (_gate)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
        }
    }
}

using System.Diagnostics;
using System.Globalization;

namespace CacheProvider.Samples.Patterns;

/// <summary>Prints demo lines with the time since the demo started, so waits and takeovers can be read off.</summary>
internal sealed class Narrator
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly object _lock = new();

    public TimeSpan Elapsed => _clock.Elapsed;

    public void Say(string text)
    {
        lock (_lock)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[+{_clock.Elapsed.TotalSeconds,6:0.000}] {text}"));
        }
    }

    public void Heading(string text)
    {
        lock (_lock)
        {
            Console.WriteLine();
            Console.WriteLine($"== {text}");
        }
    }
}

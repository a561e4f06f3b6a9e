using System.Globalization;

namespace CacheProvider.Samples.Expiry;

/// <summary>
/// Console output with times relative to the demo's start, so a reader can compare "when it happened" with
/// "when it was due" at a glance. Server timestamps and the local clock are the same machine's clock here.
/// </summary>
internal sealed class Report(DateTimeOffset start)
{
    private readonly object _gate = new();

    public DateTimeOffset Start { get; } = start;

    /// <summary><c>+12.345s</c>, right-aligned so columns line up.</summary>
    public string Rel(DateTimeOffset t) =>
        string.Create(CultureInfo.InvariantCulture, $"+{(t - Start).TotalSeconds:0.000}s").PadLeft(8);

    public static string Ms(TimeSpan d) =>
        string.Create(CultureInfo.InvariantCulture, $"{d.TotalMilliseconds,5:0} ms");

    public static string Seconds(TimeSpan d) =>
        string.Create(CultureInfo.InvariantCulture, $"{d.TotalSeconds:0.#}s");

    public void Heading(string text)
    {
        lock (_gate)
        {
            Console.WriteLine();
            Console.WriteLine(text);
            Console.WriteLine(new string('-', text.Length));
        }
    }

    /// <summary>A line stamped with the current time.</summary>
    public void Event(string text)
    {
        var stamp = Rel(DateTimeOffset.UtcNow);
        lock (_gate)
        {
            Console.WriteLine($"  [{stamp}] {text}");
        }
    }

    /// <summary>An explanation line, aligned with the text of the events.</summary>
    public void Note(string text)
    {
        lock (_gate)
        {
            Console.WriteLine($"              {text}");
        }
    }

    /// <summary>A detail of the event just printed, aligned under its second column.</summary>
    public void Detail(string text)
    {
        lock (_gate)
        {
            Console.WriteLine($"                       {text}");
        }
    }

    public void Plain(string text)
    {
        lock (_gate)
        {
            Console.WriteLine(text);
        }
    }
}

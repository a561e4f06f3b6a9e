using Spectre.Console;

namespace CacheProvider.KvDoctor;

/// <summary>Where a run writes: plain writers for machine output and errors, a Spectre console for tables.</summary>
internal sealed class ToolIo
{
    public ToolIo(TextWriter output, TextWriter error)
    {
        Out = output;
        Error = error;
        var isTerminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        Console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = isTerminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = isTerminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!isTerminal)
        {
            Console.Profile.Width = 240;
        }
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public IAnsiConsole Console { get; }
}

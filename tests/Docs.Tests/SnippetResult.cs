using System.Text;

namespace CacheProvider.Docs.Tests;

/// <summary>What compiling one block gave.</summary>
/// <param name="Block">The block.</param>
/// <param name="Mode">How it was compiled (top-level statements, class file, fragment).</param>
/// <param name="Errors">Compiler errors, each with its Markdown location and the offending line.</param>
/// <param name="Warnings">Compiler warnings (reported, not failed on).</param>
public sealed record SnippetResult(DocBlock Block, string Mode, IReadOnlyList<string> Errors, IReadOnlyList<string> Warnings)
{
    /// <summary>The failure message: which block, how it was compiled, and every error.</summary>
    public string Report()
    {
        var sb = new StringBuilder();
        sb.Append(FormattableString.Invariant($"```{Block.Language} block at {Block.Id} (code on lines {Block.FirstCodeLine}–{Block.FirstCodeLine + Block.Code.Count(c => c == '\n')}), compiled as {Mode}, "));
        sb.Append(FormattableString.Invariant($"does not compile: {Errors.Count} error(s)\n"));
        foreach (var e in Errors)
        {
            sb.Append("  ").Append(e).Append('\n');
        }

        sb.Append("Fix the doc (name the namespaces it needs in `using` lines, use the current API). If the block is deliberately not a whole program, ");
        sb.Append("put `<!-- snippet: fragment(Type name, ...) -->` on the line before its fence, naming the variables it assumes; it is then compiled after their declarations.");
        return sb.ToString();
    }
}

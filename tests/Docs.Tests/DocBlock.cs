namespace CacheProvider.Docs.Tests;

/// <summary>One fenced code block of a Markdown file.</summary>
/// <param name="File">Path relative to the repository root, with '/' separators.</param>
/// <param name="FenceLine">1-based line of the opening fence (what the test case is named by).</param>
/// <param name="FirstCodeLine">1-based line of the block's first line of code.</param>
/// <param name="Language">The info string's first word (empty when the fence names none).</param>
/// <param name="Code">The block's text, without the fences.</param>
/// <param name="Marker">The <c>&lt;!-- snippet: … --&gt;</c> comment right before the block, if any.</param>
public sealed record DocBlock(string File, int FenceLine, int FirstCodeLine, string Language, string Code, SnippetMarker? Marker)
{
    /// <summary>Info strings that mean C#, as GitHub highlights them.</summary>
    public static readonly string[] CSharpLanguages = ["csharp", "cs", "c#"];

    /// <summary>Whether the block is C# (and so must compile).</summary>
    public bool IsCSharp => CSharpLanguages.Contains(Language, StringComparer.OrdinalIgnoreCase);

    /// <summary>The test case's name: <c>file:line</c> of the opening fence.</summary>
    public string Id => $"{File}:{FenceLine}";

    /// <inheritdoc />
    public override string ToString() => Id;
}

using Markdig;
using Markdig.Syntax;

namespace CacheProvider.Docs.Tests;

/// <summary>Finds the repository's Markdown files and their fenced code blocks (parsed with Markdig, as CommonMark).</summary>
public static class MarkdownBlocks
{
    private static readonly string[] SkippedDirectories = ["bin", "obj", "node_modules", ".tools", ".git", "TestResults", "BenchmarkDotNet.Artifacts"];

    /// <summary>The repository root: the nearest directory above the test's output that holds CacheProvider.sln.</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>Every Markdown file of the repository (README.md, docs/, src/*/README.md, tools/, samples/, ...), sorted.</summary>
    public static IReadOnlyList<string> Files()
    {
        var files = new List<string>();
        Collect(RepositoryRoot, files);
        files.Sort(StringComparer.Ordinal);
        return files;
    }

    /// <summary>Every fenced code block of every Markdown file.</summary>
    public static IReadOnlyList<DocBlock> All() => Files().SelectMany(Read).ToList();

    /// <summary>The fenced code blocks of one file (path relative to the repository root).</summary>
    public static IReadOnlyList<DocBlock> Read(string relativePath) =>
        Parse(relativePath, File.ReadAllText(Path.Combine(RepositoryRoot, relativePath)));

    /// <summary>The fenced code blocks of <paramref name="markdown"/>, reported as <paramref name="relativePath"/>.</summary>
    public static IReadOnlyList<DocBlock> Parse(string relativePath, string markdown)
    {
        var document = Markdown.Parse(markdown, new MarkdownPipelineBuilder().Build());
        var blocks = new List<DocBlock>();
        foreach (var fence in document.Descendants<FencedCodeBlock>())
        {
            var code = fence.Lines.ToString();
            var firstCodeLine = fence.Lines.Count > 0 ? fence.Lines.Lines[0].Line + 1 : fence.Line + 2;
            blocks.Add(new DocBlock(relativePath, fence.Line + 1, firstCodeLine, fence.Info ?? string.Empty, code, MarkerBefore(fence)));
        }

        return blocks;
    }

    /// <summary>Snippet markers that stand before no C# block (they would be ignored silently otherwise).</summary>
    public static IEnumerable<string> StrayMarkers(string relativePath, string markdown)
    {
        var document = Markdown.Parse(markdown, new MarkdownPipelineBuilder().Build());
        foreach (var html in document.Descendants<HtmlBlock>())
        {
            if (SnippetMarker.TryParse(html.Lines.ToString(), html.Line + 1) is not { } marker)
            {
                continue;
            }

            var parent = html.Parent!;
            var index = parent.IndexOf(html);
            var next = index + 1 < parent.Count ? parent[index + 1] : null;
            if (next is not FencedCodeBlock fence || !DocBlock.CSharpLanguages.Contains(fence.Info ?? string.Empty, StringComparer.OrdinalIgnoreCase))
            {
                yield return $"{relativePath}:{marker.Line}: '<!-- snippet: {marker.Text} -->' is not directly followed by a ```csharp block";
            }
        }
    }

    private static SnippetMarker? MarkerBefore(FencedCodeBlock fence)
    {
        var parent = fence.Parent;
        if (parent is null)
        {
            return null;
        }

        var index = parent.IndexOf(fence);
        return index > 0 && parent[index - 1] is HtmlBlock html ? SnippetMarker.TryParse(html.Lines.ToString(), html.Line + 1) : null;
    }

    private static void Collect(string directory, List<string> files)
    {
        foreach (var file in Directory.EnumerateFiles(directory, "*.md"))
        {
            files.Add(Path.GetRelativePath(RepositoryRoot, file).Replace('\\', '/'));
        }

        foreach (var sub in Directory.EnumerateDirectories(directory))
        {
            if (!SkippedDirectories.Contains(Path.GetFileName(sub), StringComparer.Ordinal))
            {
                Collect(sub, files);
            }
        }
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "CacheProvider.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No CacheProvider.sln above {AppContext.BaseDirectory}: the docs test runs from the repository's build output.");
    }
}

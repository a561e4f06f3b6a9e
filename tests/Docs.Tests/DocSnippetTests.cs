namespace CacheProvider.Docs.Tests;

/// <summary>
/// Every C# block (```csharp, ```cs, ```c#) of every Markdown file of the repository compiles against the solution's
/// assemblies, so a renamed API breaks CI, not a reader. One test case per block, named by file and line.
/// </summary>
public sealed class DocSnippetTests(ITestOutputHelper output)
{
    public static TheoryData<string> CSharpBlocks()
    {
        var data = new TheoryData<string>();
        foreach (var block in MarkdownBlocks.All())
        {
            if (block.IsCSharp)
            {
                data.Add(block.Id);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(CSharpBlocks))]
    public void Block_compiles(string block)
    {
        var separator = block.LastIndexOf(':');
        var file = block[..separator];
        var line = int.Parse(block[(separator + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        var doc = Assert.Single(MarkdownBlocks.Read(file), b => b.FenceLine == line);

        var result = SnippetCompiler.Compile(doc);
        output.WriteLine($"{doc.Id}: compiled as {result.Mode}");
        foreach (var w in result.Warnings)
        {
            output.WriteLine("  " + w);
        }

        Assert.True(result.Errors.Count == 0, result.Report());
    }

    [Fact]
    public void The_docs_have_CSharp_blocks_and_every_fenced_block_names_its_language()
    {
        var blocks = MarkdownBlocks.All();
        Assert.Contains(blocks, b => b.File == "README.md" && b.IsCSharp);
        Assert.Contains(blocks, b => b.File.StartsWith("docs/", StringComparison.Ordinal) && b.IsCSharp);

        // A block without a language would escape the compile check (and the reader's highlighting).
        var unnamed = blocks.Where(b => b.Language.Length == 0).Select(b => b.Id + ": a ``` fence without a language (```csharp, ```bash, ```json, ```text, ...)").ToList();
        Assert.True(unnamed.Count == 0, string.Join('\n', unnamed));
    }

    [Fact]
    public void Every_snippet_marker_stands_right_before_a_CSharp_block()
    {
        var stray = MarkdownBlocks.Files()
            .SelectMany(f => MarkdownBlocks.StrayMarkers(f, File.ReadAllText(Path.Combine(MarkdownBlocks.RepositoryRoot, f))))
            .ToList();
        Assert.True(stray.Count == 0, string.Join('\n', stray));
    }
}

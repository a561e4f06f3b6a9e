namespace CacheProvider.Docs.Tests;

/// <summary>The checker itself: it finds blocks, catches a stale API with its location, and wraps fragments.</summary>
public sealed class SnippetCompilerTests
{
    private const string Doc = """
        # Title

        ```bash
        ./build.sh test
        ```

        ```csharp
        using CacheProvider.Caching;

        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddNatsDistributedCache(o =>
        {
            o.Url = "nats://127.0.0.1:4222";
            o.Bucket = "cache";
        });
        ```

        - in a list:

          ```cs
          public sealed class Cart { public List<string> Items { get; } = []; }
          ```

        <!-- snippet: fragment(ISiloBuilder silo) -->
        ```csharp
        using Orleans.Hosting;

        silo.AddNatsGrainStorageAsDefault(o => o.DefaultStateTtl = TimeSpan.FromMinutes(5));
        ```

        <!-- snippet: fragment -->
        ```csharp
        silo.UseNatsReminderService();
        ```

        <!-- snippet: partial -->
        ```csharp
        var x = 1;
        ```
        """;

    private static IReadOnlyList<DocBlock> Blocks => MarkdownBlocks.Parse("docs/example.md", Doc);

    [Fact]
    public void Blocks_are_found_with_their_language_and_line_and_only_CSharp_ones_are_checked()
    {
        var blocks = Blocks;
        Assert.Equal(["bash", "csharp", "cs", "csharp", "csharp", "csharp"], blocks.Select(b => b.Language));
        Assert.Equal([3, 7, 20, 25, 32, 37], blocks.Select(b => b.FenceLine));
        Assert.Equal(8, blocks[1].FirstCodeLine);
        Assert.False(blocks[0].IsCSharp);
        Assert.All(blocks.Skip(1), b => Assert.True(b.IsCSharp));
        Assert.Null(blocks[1].Marker);
        Assert.Equal(["ISiloBuilder silo"], blocks[3].Marker!.Given);
    }

    [Fact]
    public void A_removed_option_fails_with_the_file_line_and_the_compiler_error()
    {
        var result = SnippetCompiler.Compile(Blocks[1]);
        Assert.Equal("top-level statements", result.Mode);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("docs/example.md(13,7): error CS1061:", error, StringComparison.Ordinal);
        Assert.Contains("'NatsDistributedCacheOptions' does not contain a definition for 'Url'", error, StringComparison.Ordinal);
        Assert.Contains("o.Url = \"nats://127.0.0.1:4222\";", error, StringComparison.Ordinal);
        Assert.Contains("docs/example.md:7", result.Report(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_declarations_only_block_compiles_as_a_class_file_even_inside_a_list()
    {
        var result = SnippetCompiler.Compile(Blocks[2]);
        Assert.Equal("class file", result.Mode);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void A_fragment_compiles_after_its_usings_and_the_variables_it_is_given()
    {
        var result = SnippetCompiler.Compile(Blocks[3]);
        Assert.Empty(result.Errors);
        Assert.Contains("given ISiloBuilder silo", result.Mode, StringComparison.Ordinal);

        // Without the declaration (and without the using) the same call does not compile: the wrapper is not lenient.
        var bare = SnippetCompiler.Compile(Blocks[4]);
        Assert.Contains(bare.Errors, e => e.StartsWith("docs/example.md(33,1): error CS0103: The name 'silo' does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public void An_unknown_marker_fails_the_block()
    {
        var result = SnippetCompiler.Compile(Blocks[5]);
        var error = Assert.Single(result.Errors);
        Assert.Contains("docs/example.md(36): unknown snippet marker 'partial'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_marker_before_anything_but_a_CSharp_block_is_reported()
    {
        var stray = MarkdownBlocks.StrayMarkers("docs/x.md", "<!-- snippet: fragment -->\n```bash\nls\n```\n").ToList();
        Assert.Equal(["docs/x.md:1: '<!-- snippet: fragment -->' is not directly followed by a ```csharp block"], stray);
    }
}

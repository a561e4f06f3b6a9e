using System.Text.RegularExpressions;

namespace CacheProvider.Docs.Tests;

/// <summary>
/// The HTML comment a doc puts right before a C# block that is not a whole program:
/// <c>&lt;!-- snippet: fragment(WebApplicationBuilder builder, IDistributedCache cache) --&gt;</c>. The block is then
/// compiled as top-level statements after declarations of the given variables (so it may use them), after its own
/// <c>using</c> directives. Readers do not see the comment; it states what the surrounding text already says
/// ("inside a grain", "given a silo builder").
/// </summary>
/// <param name="Line">1-based line of the comment.</param>
/// <param name="Text">The comment's text after <c>snippet:</c>.</param>
/// <param name="Given">The variables the fragment assumes, as <c>Type name</c> declarations.</param>
/// <param name="Error">Why the comment could not be read, or <see langword="null"/>.</param>
public sealed partial record SnippetMarker(int Line, string Text, IReadOnlyList<string> Given, string? Error)
{
    /// <summary>Reads a marker comment, or returns <see langword="null"/> when <paramref name="html"/> is no snippet marker.</summary>
    public static SnippetMarker? TryParse(string html, int line)
    {
        var m = Comment().Match(html);
        if (!m.Success)
        {
            return null;
        }

        var text = m.Groups[1].Value.Trim();
        var f = Fragment().Match(text);
        if (!f.Success)
        {
            return new SnippetMarker(line, text, [], $"unknown snippet marker '{text}': the only one is 'fragment(Type name, ...)' (or 'fragment' with nothing given)");
        }

        var given = f.Groups[1].Success ? SplitTopLevel(f.Groups[1].Value) : [];
        foreach (var g in given)
        {
            if (!Declaration().IsMatch(g))
            {
                return new SnippetMarker(line, text, given, $"'{g}' in the snippet marker is not a 'Type name' declaration");
            }
        }

        return new SnippetMarker(line, text, given, null);
    }

    /// <summary>Splits <c>A&lt;B, C&gt; x, D y</c> at the commas outside angle brackets.</summary>
    private static List<string> SplitTopLevel(string text)
    {
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            switch (text[i])
            {
                case '<': depth++; break;
                case '>': depth--; break;
                case ',' when depth == 0:
                    parts.Add(text[start..i].Trim());
                    start = i + 1;
                    break;
            }
        }

        parts.Add(text[start..].Trim());
        return parts.Where(p => p.Length > 0).ToList();
    }

    [GeneratedRegex(@"^\s*<!--\s*snippet:(.*?)-->\s*$", RegexOptions.Singleline)]
    private static partial Regex Comment();

    [GeneratedRegex(@"^fragment\s*(?:\((.*)\))?$", RegexOptions.Singleline)]
    private static partial Regex Fragment();

    [GeneratedRegex(@"^[\w.<>\[\]?, ]+\s+@?[A-Za-z_]\w*$")]
    private static partial Regex Declaration();
}

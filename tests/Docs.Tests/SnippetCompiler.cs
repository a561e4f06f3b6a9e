using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace CacheProvider.Docs.Tests;

/// <summary>
/// Compiles one C# block of the docs with Roslyn, the way a reader's project would: C# latest, nullable on, the
/// ASP.NET Core SDK's implicit global usings, and every assembly this test runs with (the product assemblies, their
/// dependencies, ASP.NET Core, an Orleans silo) as references. A block with statements is a program (top-level
/// statements); a block of declarations only is a class file (a library). Diagnostics point at the Markdown file and
/// line (<c>#line</c>).
/// </summary>
public static class SnippetCompiler
{
    /// <summary>The global usings of an ASP.NET Core project (Microsoft.NET.Sdk.Web); the Worker SDK's are a subset.</summary>
    public static readonly string[] ImplicitUsings =
    [
        "System", "System.Collections.Generic", "System.IO", "System.Linq", "System.Net.Http", "System.Net.Http.Json",
        "System.Threading", "System.Threading.Tasks", "Microsoft.AspNetCore.Builder", "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Http", "Microsoft.AspNetCore.Routing", "Microsoft.Extensions.Configuration",
        "Microsoft.Extensions.DependencyInjection", "Microsoft.Extensions.Hosting", "Microsoft.Extensions.Logging",
    ];

    private static readonly CSharpParseOptions ParseOptions = new(LanguageVersion.Latest, DocumentationMode.None);

    private static readonly Lazy<ImmutableArray<MetadataReference>> References = new(LoadReferences);

    private static readonly SyntaxTree GlobalUsings = CSharpSyntaxTree.ParseText(
        string.Concat(ImplicitUsings.Select(u => $"global using global::{u};\n")), ParseOptions, path: "ImplicitUsings.g.cs");

    /// <summary>Compiles <paramref name="block"/>; the result says how it was compiled and what the compiler said.</summary>
    public static SnippetResult Compile(DocBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Marker is { Error: { } markerError })
        {
            return new SnippetResult(block, "not compiled", [$"{block.File}({block.Marker.Line}): {markerError}"], []);
        }

        var (source, mode) = Source(block);
        var tree = CSharpSyntaxTree.ParseText(source, ParseOptions, path: block.File + ".g.cs", encoding: Encoding.UTF8);
        var kind = mode == "class file" ? OutputKind.DynamicallyLinkedLibrary : OutputKind.ConsoleApplication;
        var compilation = CSharpCompilation.Create(
            "Snippet_" + Path.GetFileNameWithoutExtension(block.File) + "_" + block.FenceLine,
            [GlobalUsings, tree],
            References.Value,
            new CSharpCompilationOptions(kind, nullableContextOptions: NullableContextOptions.Enable, concurrentBuild: false));

        var errors = new List<string>();
        var warnings = new List<string>();
        foreach (var d in compilation.GetDiagnostics())
        {
            if (d.Severity == DiagnosticSeverity.Error)
            {
                errors.Add(Describe(d, block));
            }
            else if (d.Severity == DiagnosticSeverity.Warning && d.Id is not ("CS8321" or "CS0168" or "CS0219"))
            {
                warnings.Add(Describe(d, block));
            }
        }

        return new SnippetResult(block, mode, errors, warnings);
    }

    /// <summary>The source compiled for a block, and how it is compiled.</summary>
    internal static (string Source, string Mode) Source(DocBlock block)
    {
        var unit = SyntaxFactory.ParseCompilationUnit(block.Code, options: ParseOptions);
        var hasStatements = unit.Members.Any(m => m is GlobalStatementSyntax);
        var line = block.FirstCodeLine;
        if (block.Marker is not { } marker)
        {
            return ($"#line {line} \"{block.File}\"\n{block.Code}", hasStatements ? "top-level statements" : "class file");
        }

        // Fragment: its own usings first, then the variables the marker gives, then the rest of the block.
        var usingsEnd = unit.Usings.Count > 0 ? unit.Usings.Last().FullSpan.End : unit.Externs.Count > 0 ? unit.Externs.Last().FullSpan.End : 0;
        var head = block.Code[..usingsEnd];
        var rest = block.Code[usingsEnd..];
        var restLine = line + head.Count(c => c == '\n');
        var sb = new StringBuilder();
        sb.Append(CultureInvariant($"#line {line} \"{block.File}\"\n")).Append(head);
        if (head.Length > 0 && !head.EndsWith('\n'))
        {
            sb.Append('\n');
        }

        // All on the marker's line, so an error in a declaration points at the marker.
        sb.Append(CultureInvariant($"#line {marker.Line} \"{block.File}\"\n"));
        foreach (var given in marker.Given)
        {
            sb.Append(given).Append(" = default!; ");
        }

        sb.Append('\n');

        sb.Append(CultureInvariant($"#line {restLine} \"{block.File}\"\n")).Append(rest);
        var given0 = marker.Given.Count == 0 ? "nothing given" : "given " + string.Join(", ", marker.Given);
        return (sb.ToString(), $"fragment (marker on line {marker.Line}: {given0}) as top-level statements");
    }

    private static string CultureInvariant(FormattableString s) => FormattableString.Invariant(s);

    private static string Describe(Diagnostic d, DocBlock block)
    {
        var span = d.Location.GetMappedLineSpan();
        var line = span.StartLinePosition.Line + 1;
        var column = span.StartLinePosition.Character + 1;
        var text = $"{span.Path}({line},{column}): {d.Severity.ToString().ToLowerInvariant()} {d.Id}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
        var index = line - block.FirstCodeLine;
        var lines = block.Code.Split('\n');
        return span.Path == block.File && index >= 0 && index < lines.Length
            ? text + "\n        " + lines[index].TrimEnd('\r').Trim()
            : text;
    }

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var tpa = (string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES")
            ?? throw new InvalidOperationException("TRUSTED_PLATFORM_ASSEMBLIES is not set: run the test on .NET (not as a single-file app).");
        var builder = ImmutableArray.CreateBuilder<MetadataReference>();
        foreach (var path in tpa.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal))
        {
            builder.Add(MetadataReference.CreateFromFile(path));
        }

        return builder.ToImmutable();
    }
}

using System.Reflection;
using System.Text.RegularExpressions;

namespace SecretsCache.DocsTests;

/// <summary>Every C# block of the documentation reached the compiler: none was skipped by a fence spelled another way.</summary>
public sealed partial class SnippetCoverageTests
{
    [Fact]
    public void Every_csharp_block_of_the_docs_is_compiled()
    {
        var root = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
        var documents = new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md"))
            .Concat(Directory.GetDirectories(Path.Combine(root, "src")).SelectMany(d => Directory.GetFiles(d, "*.md")))
            .ToList();
        Assert.Contains(documents, d => d.EndsWith("rotation.md", StringComparison.Ordinal));

        var fences = 0;
        foreach (var document in documents)
        {
            var text = File.ReadAllText(document);
            Assert.DoesNotMatch(OtherCSharpFence(), text); // ```cs, ```c#, ```C#: use ```csharp, which the extractor reads
            fences += CSharpFence().Count(text);
        }

        var compiled = typeof(SnippetCoverageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "CompiledSnippets").Value;
        Assert.True(fences >= 15, $"only {fences} C# blocks found: are the docs where this test looks ({root})?");
        Assert.Equal(fences, int.Parse(compiled!, System.Globalization.CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"^```csharp\s*$", RegexOptions.Multiline)]
    private static partial Regex CSharpFence();

    [GeneratedRegex(@"^```(cs|c#|C#|CSharp|csharp\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex OtherCSharpFence();
}

using System.Text;
using System.Text.RegularExpressions;
using SecretsCache.PackageTests.Support;

namespace SecretsCache.PackageTests;

/// <summary>The readme a package page shows: the package's own, short, with links that work away from the repository.</summary>
public sealed partial class ReadmeTests
{
    public static TheoryData<string> Ids => Packed.IdData();

    [Theory]
    [MemberData(nameof(Ids))]
    public void Each_package_ships_its_own_short_readme_with_an_install_line_and_a_compiled_example(string id)
    {
        using var package = Packed.Open(id);
        Assert.Equal("README.md", package.Element("readme"));

        var packed = package.Read("README.md");
        var own = File.ReadAllBytes(Path.Combine(Packed.RepositoryRoot, "src", id, "README.md"));
        var text = Encoding.UTF8.GetString(packed);

        Assert.Equal(own, packed);
        Assert.True(packed.Length < 8 * 1024, $"{id}'s readme is {packed.Length} bytes: keep it short, link to the docs");
        Assert.Contains($"dotnet add package {id}", text, StringComparison.Ordinal);
        Assert.Matches(SnippetMarkerThenCSharp(), text); // the example is compiled by tests/SecretsCache.DocsTests
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Package_readme_links_are_absolute(string id)
    {
        using var package = Packed.Open(id);
        var text = Encoding.UTF8.GetString(package.Read("README.md"));

        var targets = MarkdownLink().Matches(text).Select(m => m.Groups["target"].Value).ToList();
        var relative = targets.Where(t => !t.StartsWith("https://", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(targets);
        Assert.True(relative.Count == 0, $"{id}'s readme has links that break on a package page: {string.Join(", ", relative)}");
    }

    [Fact]
    public void The_link_check_sees_relative_links()
    {
        Assert.Equal(
            ["docs/hosting.md", "#options", "https://example.com/a", "../x.png"],
            MarkdownLink().Matches("[a](docs/hosting.md) [b](#options \"t\") [c](https://example.com/a) ![d](../x.png)")
                .Select(m => m.Groups["target"].Value));
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)(\s+""[^""]*"")?\)")]
    private static partial Regex MarkdownLink();

    [GeneratedRegex(@"<!-- snippet:[^\n]*-->\n```csharp\n")]
    private static partial Regex SnippetMarkerThenCSharp();
}

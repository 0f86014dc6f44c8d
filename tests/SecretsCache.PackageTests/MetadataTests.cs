using System.Buffers.Binary;
using System.Text.RegularExpressions;
using SecretsCache.PackageTests.Support;

namespace SecretsCache.PackageTests;

/// <summary>What a package page and a NuGet client show besides the code: icon, release notes, licence, repository.</summary>
public sealed class MetadataTests
{
    public static TheoryData<string> Ids => Packed.IdData();

    [Theory]
    [MemberData(nameof(Ids))]
    public void Each_package_has_a_128_pixel_png_icon(string id)
    {
        using var package = Packed.Open(id);
        Assert.Equal("icon.png", package.Element("icon"));

        var png = package.Read("icon.png");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal("IHDR"u8.ToArray(), png[12..16]);
        Assert.Equal(128u, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(128u, BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(20)));
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Release_notes_point_at_the_changelog_which_describes_this_version(string id)
    {
        using var package = Packed.Open(id);
        var changelog = $"{Packed.RepositoryUrl}/blob/main/CHANGELOG.md";
        Assert.Contains(changelog, package.Element("releaseNotes"), StringComparison.Ordinal);

        var version = package.Element("version")!;
        var text = File.ReadAllText(Path.Combine(Packed.RepositoryRoot, "CHANGELOG.md"));
        Assert.Matches(new Regex($@"^## \[{Regex.Escape(version)}\]", RegexOptions.Multiline), text);
    }

    [Theory]
    [MemberData(nameof(Ids))]
    public void Each_package_names_its_licence_project_and_repository(string id)
    {
        using var package = Packed.Open(id);

        Assert.Equal("Apache-2.0", package.Element("license"));
        Assert.Equal(Packed.RepositoryUrl, package.Element("projectUrl"));
        Assert.Equal("git", (string?)package.Repository?.Attribute("type"));
        Assert.Equal(Packed.RepositoryUrl, (string?)package.Repository?.Attribute("url"));
        Assert.False(string.IsNullOrWhiteSpace(package.Element("description")));
    }
}

using System.IO.Compression;
using System.Reflection;
using System.Xml.Linq;

namespace SecretsCache.PackageTests.Support;

/// <summary>The packages this build packed (see the project file), and what the build knew about itself.</summary>
internal static class Packed
{
    public static readonly string[] Ids = ["SecretsCache", "SecretsCache.Hosting", "SecretsCache.Redis", "SecretsCache.Testing"];

    public static readonly string[] TargetFrameworks = ["net8.0", "net10.0"];

    public static string Directory => Metadata("PackedPackages");

    public static string RepositoryRoot => Metadata("RepositoryRoot");

    public static string RepositoryUrl => Metadata("RepositoryUrl");

    /// <summary>True when the packages were built as CI builds them (CI=true: ContinuousIntegrationBuild).</summary>
    public static bool IsContinuousIntegrationBuild =>
        string.Equals(Metadata("ContinuousIntegrationBuild"), "true", StringComparison.OrdinalIgnoreCase);

    public static PackedPackage Open(string id) => new(id, Single(id, ".nupkg"), Single(id, ".snupkg"));

    public static TheoryData<string> IdData() => [.. Ids];

    public static TheoryData<string, string> IdAndTargetData()
    {
        var data = new TheoryData<string, string>();
        foreach (var id in Ids)
        {
            foreach (var target in TargetFrameworks)
            {
                data.Add(id, target);
            }
        }

        return data;
    }

    private static string Single(string id, string extension)
    {
        // SecretsCache.0.1.0.nupkg, not SecretsCache.Hosting.0.1.0.nupkg: the version starts with a digit.
        var files = System.IO.Directory.GetFiles(Directory, $"{id}.*{extension}")
            .Where(f => Path.GetFileName(f)[(id.Length + 1)..] is [>= '0' and <= '9', ..])
            .ToArray();
        Assert.True(files.Length == 1, $"expected one {id}{extension} in {Directory}, found {files.Length}");
        return files[0];
    }

    private static string Metadata(string key) =>
        typeof(Packed).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"no {key} metadata");
}

/// <summary>One package and its symbol package, opened as a NuGet client reads them.</summary>
internal sealed class PackedPackage : IDisposable
{
    private static readonly XNamespace Nuspec = "http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd";

    private readonly ZipArchive _package;
    private readonly ZipArchive _symbols;

    public PackedPackage(string id, string package, string symbols)
    {
        Id = id;
        _package = ZipFile.OpenRead(package);
        _symbols = ZipFile.OpenRead(symbols);
        using var nuspec = Open(_package, $"{id}.nuspec");
        Metadata = XDocument.Load(nuspec).Root!.Element(Nuspec + "metadata")!;
    }

    public string Id { get; }

    /// <summary>The .nuspec's metadata element.</summary>
    public XElement Metadata { get; }

    public IEnumerable<string> Files => _package.Entries.Select(e => e.FullName);

    public string? Element(string name) => Metadata.Element(Nuspec + name)?.Value;

    public XElement? Repository => Metadata.Element(Nuspec + "repository");

    /// <summary>The dependency group of one target framework: (id, version) pairs.</summary>
    public IReadOnlyList<(string Id, string Version)> Dependencies(string targetFramework)
    {
        var groups = Metadata.Element(Nuspec + "dependencies")!.Elements(Nuspec + "group").ToList();
        var group = groups.SingleOrDefault(g => (string?)g.Attribute("targetFramework") == targetFramework);
        Assert.True(group is not null, $"{Id} has no dependency group for {targetFramework}");
        return [.. group.Elements(Nuspec + "dependency").Select(d => ((string)d.Attribute("id")!, (string)d.Attribute("version")!))];
    }

    public IEnumerable<string> DependencyGroupTargets =>
        Metadata.Element(Nuspec + "dependencies")!.Elements(Nuspec + "group").Select(g => (string)g.Attribute("targetFramework")!);

    public byte[] Read(string path) => ReadAll(_package, path);

    public byte[] ReadSymbols(string path) => ReadAll(_symbols, path);

    public bool HasSymbols(string path) => _symbols.GetEntry(path) is not null;

    public void Dispose()
    {
        _package.Dispose();
        _symbols.Dispose();
    }

    private static byte[] ReadAll(ZipArchive archive, string path)
    {
        using var stream = Open(archive, path);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static Stream Open(ZipArchive archive, string path)
    {
        var entry = archive.GetEntry(path);
        Assert.True(entry is not null, $"the package has no {path}: {string.Join(", ", archive.Entries.Select(e => e.FullName))}");
        return entry.Open();
    }
}

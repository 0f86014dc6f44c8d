using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.Json;
using SecretsCache.PackageTests.Support;

namespace SecretsCache.PackageTests;

/// <summary>
/// The symbol package lets a debugger step into the shipped assemblies: their PDBs, SourceLink to the packed commit, and
/// (in CI builds) source paths that do not depend on the machine that built them.
/// </summary>
public sealed class SymbolTests
{
    private static readonly Guid SourceLinkKind = new("CC110556-A091-4D38-9FEC-25AB9A351A6A");
    private static readonly Guid EmbeddedSourceKind = new("0E8A571B-6926-466E-B4AD-8AB04611F5FE");

    public static TheoryData<string, string> IdsAndTargets => Packed.IdAndTargetData();

    [Theory]
    [MemberData(nameof(IdsAndTargets))]
    public void The_symbol_package_holds_the_pdb_of_each_shipped_assembly(string id, string target)
    {
        using var package = Packed.Open(id);
        using var pe = new PEReader(new MemoryStream(package.Read($"lib/{target}/{id}.dll")));
        var codeView = pe.ReadDebugDirectory().Single(e => e.Type == DebugDirectoryEntryType.CodeView);
        var expected = pe.ReadCodeViewDebugDirectoryData(codeView);

        using var pdb = MetadataReaderProvider.FromPortablePdbImage([.. package.ReadSymbols($"lib/{target}/{id}.pdb")]);
        var id20 = pdb.GetMetadataReader().DebugMetadataHeader!.Id;

        Assert.Equal(expected.Guid, new Guid(id20.AsSpan(0, 16)));
        Assert.Equal(codeView.Stamp, BitConverter.ToUInt32(id20.AsSpan(16, 4)));
        Assert.Equal($"{id}.pdb", Path.GetFileName(expected.Path));
    }

    [Theory]
    [MemberData(nameof(IdsAndTargets))]
    public void Shipped_assemblies_are_built_deterministically(string id, string target)
    {
        using var package = Packed.Open(id);
        using var pe = new PEReader(new MemoryStream(package.Read($"lib/{target}/{id}.dll")));

        Assert.Contains(pe.ReadDebugDirectory(), e => e.Type == DebugDirectoryEntryType.Reproducible);
    }

    [Theory]
    [MemberData(nameof(IdsAndTargets))]
    public void SourceLink_maps_every_source_to_the_repository_at_the_packed_commit(string id, string target)
    {
        using var package = Packed.Open(id);
        var commit = (string?)package.Repository?.Attribute("commit");
        Assert.True(commit is { Length: 40 } && commit.All(Uri.IsHexDigit), $"{id}'s .nuspec names no commit ({commit}): was it built from a git repository?");

        using var pdb = MetadataReaderProvider.FromPortablePdbImage([.. package.ReadSymbols($"lib/{target}/{id}.pdb")]);
        var reader = pdb.GetMetadataReader();

        // CI builds map the repository root to /_/ (ContinuousIntegrationBuild); others keep the real path.
        var root = Packed.IsContinuousIntegrationBuild ? "/_/" : Packed.RepositoryRoot;
        var raw = Packed.RepositoryUrl.Replace("https://github.com/", "https://raw.githubusercontent.com/", StringComparison.Ordinal);
        var documents = SourceLinkDocuments(reader);
        Assert.Equal(new Dictionary<string, string> { [root + "*"] = $"{raw}/{commit}/*" }, documents);

        var mapped = new List<string>();
        foreach (var handle in reader.Documents)
        {
            var path = reader.GetString(reader.GetDocument(handle).Name);
            if (IsEmbedded(reader, handle))
            {
                continue; // generated or untracked sources travel inside the PDB
            }

            Assert.StartsWith(root, path, StringComparison.Ordinal);
            mapped.Add(path[root.Length..]);
        }

        Assert.Contains(mapped, p => p.StartsWith($"src/{id}/", StringComparison.Ordinal) && p.EndsWith(".cs", StringComparison.Ordinal));
    }

    private static Dictionary<string, string> SourceLinkDocuments(MetadataReader reader)
    {
        var blobs = reader.GetCustomDebugInformation(EntityHandle.ModuleDefinition)
            .Select(reader.GetCustomDebugInformation)
            .Where(c => reader.GetGuid(c.Kind) == SourceLinkKind)
            .Select(c => reader.GetBlobBytes(c.Value))
            .ToList();
        Assert.True(blobs.Count == 1, $"expected one SourceLink record, found {blobs.Count}");

        using var json = JsonDocument.Parse(blobs[0]);
        return json.RootElement.GetProperty("documents").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
    }

    private static bool IsEmbedded(MetadataReader reader, DocumentHandle document) =>
        reader.GetCustomDebugInformation(document)
            .Any(h => reader.GetGuid(reader.GetCustomDebugInformation(h).Kind) == EmbeddedSourceKind);
}

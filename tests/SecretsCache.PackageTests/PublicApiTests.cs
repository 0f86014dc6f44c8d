using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using SecretsCache.PackageTests.Support;

namespace SecretsCache.PackageTests;

/// <summary>
/// The public types each packed assembly exposes are the ones its PublicAPI files track (the analyzer checks the source;
/// this checks what was packed, for each target), so nothing internal ships public by a build or packing mistake.
/// </summary>
public sealed class PublicApiTests
{
    public static TheoryData<string, string> IdsAndTargets => Packed.IdAndTargetData();

    [Theory]
    [MemberData(nameof(IdsAndTargets))]
    public void The_packed_assembly_exposes_exactly_the_public_types_its_PublicAPI_files_track(string id, string target)
    {
        using var package = Packed.Open(id);

        var exposed = PublicTypes(package.Read($"lib/{target}/{id}.dll"));

        var tracked = TrackedTypes(id);
        Assert.NotEmpty(tracked);
        Assert.Equal(tracked.Order(StringComparer.Ordinal), exposed.Order(StringComparer.Ordinal));
    }

    // A type's line in PublicAPI.*.txt is its full name alone; members carry a signature ("->" or a parameter list).
    private static HashSet<string> TrackedTypes(string id) =>
        [.. new[] { "PublicAPI.Shipped.txt", "PublicAPI.Unshipped.txt" }
            .SelectMany(file => File.ReadAllLines(Path.Combine(Packed.RepositoryRoot, "src", id, file)))
            .Select(line => line.Trim())
            .Where(line => line.Length > 0 && !line.StartsWith('#') && !line.Contains("->", StringComparison.Ordinal) && !line.Contains('(', StringComparison.Ordinal))];

    private static List<string> PublicTypes(byte[] assembly)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        var reader = pe.GetMetadataReader();
        var types = new List<string>();
        foreach (var handle in reader.TypeDefinitions)
        {
            var type = reader.GetTypeDefinition(handle);
            if (IsVisible(reader, type))
            {
                types.Add(FullName(reader, type));
            }
        }

        return types;
    }

    private static bool IsVisible(MetadataReader reader, TypeDefinition type) =>
        (type.Attributes & TypeAttributes.VisibilityMask) switch
        {
            TypeAttributes.Public => true,
            TypeAttributes.NestedPublic or TypeAttributes.NestedFamily or TypeAttributes.NestedFamORAssem =>
                IsVisible(reader, reader.GetTypeDefinition(type.GetDeclaringType())),
            _ => false,
        };

    private static string FullName(MetadataReader reader, TypeDefinition type)
    {
        var name = reader.GetString(type.Name);
        if (type.GetDeclaringType() is { IsNil: false } declaring)
        {
            return FullName(reader, reader.GetTypeDefinition(declaring)) + "." + name;
        }

        var ns = reader.GetString(type.Namespace);
        return ns.Length == 0 ? name : ns + "." + name;
    }
}

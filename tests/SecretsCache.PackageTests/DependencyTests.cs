using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Text.RegularExpressions;
using SecretsCache.PackageTests.Support;

namespace SecretsCache.PackageTests;

/// <summary>What each package asks a user's restore to bring in, read from the packed .nuspec.</summary>
public sealed partial class DependencyTests
{
    public static TheoryData<string> Ids => Packed.IdData();

    public static TheoryData<string, string> IdsAndTargets => Packed.IdAndTargetData();

    public static TheoryData<string> Targets => [.. Packed.TargetFrameworks];

    [Theory]
    [MemberData(nameof(Ids))]
    public void Each_package_ships_both_targets_with_their_docs_and_one_dependency_group_each(string id)
    {
        using var package = Packed.Open(id);

        var expected = Packed.TargetFrameworks.SelectMany(t => new[] { $"lib/{t}/{id}.dll", $"lib/{t}/{id}.xml" }).Order();
        Assert.Equal(expected, package.Files.Where(f => f.StartsWith("lib/", StringComparison.Ordinal)).Order());
        Assert.Equal(Packed.TargetFrameworks.Order(), package.DependencyGroupTargets.Order());
    }

    // Central transitive pinning once made every pinned package a direct dependency: each must be one the assembly uses.
    [Theory]
    [MemberData(nameof(IdsAndTargets))]
    public void Every_declared_dependency_is_a_package_the_shipped_assembly_references(string id, string target)
    {
        using var package = Packed.Open(id);
        var referenced = AssemblyReferences(package.Read($"lib/{target}/{id}.dll"));

        var declared = package.Dependencies(target);
        var unused = declared.Where(d => !referenced.Contains(d.Id)).Select(d => d.Id).ToList();

        Assert.NotEmpty(declared);
        Assert.True(unused.Count == 0, $"{id} ({target}) declares packages its assembly never references: {string.Join(", ", unused)}");
    }

    // A net8.0 app keeps its own 8.0.x Microsoft.Extensions and System assemblies: the packages ask for nothing newer.
    [Theory]
    [MemberData(nameof(Ids))]
    public void Net8_assets_depend_on_no_Microsoft_Extensions_or_System_package_above_8(string id)
    {
        using var package = Packed.Open(id);

        var platform = package.Dependencies("net8.0")
            .Where(d => d.Id.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || d.Id.StartsWith("System.", StringComparison.Ordinal))
            .ToList();
        var above = platform.Where(d => MinimumVersion(d.Version).Major > 8).Select(d => $"{d.Id} {d.Version}").ToList();

        Assert.True(above.Count == 0, $"{id}'s net8.0 group asks for: {string.Join(", ", above)}");
        if (id != "SecretsCache.Testing")
        {
            Assert.NotEmpty(platform); // the check above saw the packages it is about
        }
    }

    // The core is all a Lambda function loads: no DI, configuration, hosting, HTTP-factory or health-check code. It takes
    // Microsoft.Extensions.Options alone, for the validators the [OptionsValidator] source generator writes (IValidateOptions,
    // ValidateOptionsResult), and none of the options packages that bind configuration or register services.
    [Theory]
    [MemberData(nameof(Targets))]
    public void The_core_package_neither_depends_on_nor_references_hosting_packages(string target)
    {
        using var package = Packed.Open("SecretsCache");
        var names = package.Dependencies(target).Select(d => d.Id)
            .Concat(AssemblyReferences(package.Read($"lib/{target}/SecretsCache.dll")));

        Assert.DoesNotContain(names, n => HostingPackage().IsMatch(n));
    }

    [Fact]
    public void Hosting_packages_are_recognised_by_the_core_check()
    {
        Assert.Matches(HostingPackage(), "Microsoft.Extensions.DependencyInjection.Abstractions");
        Assert.Matches(HostingPackage(), "Microsoft.Extensions.Configuration.Binder");
        Assert.DoesNotMatch(HostingPackage(), "Microsoft.Extensions.Logging.Abstractions");
        Assert.DoesNotMatch(HostingPackage(), "Microsoft.Extensions.Primitives");
        Assert.DoesNotMatch(HostingPackage(), "Microsoft.Extensions.Options");
        Assert.Matches(HostingPackage(), "Microsoft.Extensions.Options.ConfigurationExtensions");
        Assert.Matches(HostingPackage(), "Microsoft.Extensions.Options.DataAnnotations");
    }

    // SecretsCache.Redis, exactly: a dependency added, dropped or moved to another version shows here in review. The net8.0
    // group keeps the 8.0.x Microsoft.Extensions and System pins of the other packages (see the test below for why).
    [Theory]
    [InlineData("net8.0", "Microsoft.Extensions.Configuration 8.0.0", "Microsoft.Extensions.Configuration.Binder 8.0.2", "Microsoft.Extensions.Options 8.0.2")]
    [InlineData("net10.0", "Microsoft.Extensions.Configuration 10.0.14", "Microsoft.Extensions.Configuration.Binder 10.0.14", "Microsoft.Extensions.Options 10.0.14")]
    public void The_Redis_package_declares_exactly_the_core_StackExchange_Redis_Polly_and_its_platform_packages(string target, params string[] platform)
    {
        using var package = Packed.Open("SecretsCache.Redis");
        var version = package.Element("version");

        var declared = package.Dependencies(target).Select(d => $"{d.Id} {d.Version}").Order(StringComparer.Ordinal);

        string[] expected = [$"SecretsCache {version}", "StackExchange.Redis 3.4.35", "Polly.Core 8.9.1", .. platform];
        Assert.Equal(expected.Order(StringComparer.Ordinal), declared);
    }

    // StackExchange.Redis 3.4.35 asks for Microsoft.Extensions.Logging.Abstractions 10.0.13 on net8.0 too (and that for
    // DependencyInjection.Abstractions and System.Diagnostics.DiagnosticSource 10.x), so a net8.0 app with SecretsCache.Redis
    // gets those three at 10.x whatever this package declares, and the net8.0 assembly is compiled against them. Those, and only those, may be above 8.0 in
    // the net8.0 assembly's references; what the package declares itself stays at 8.0.x, so Options, Binder, Primitives and
    // Configuration.Abstractions are not raised for a net8.0 app (they run on the 10.x abstractions, which are compatible).
    [Fact]
    public void The_Redis_net8_assembly_references_above_8_only_what_StackExchange_Redis_brings_at_10()
    {
        using var package = Packed.Open("SecretsCache.Redis");

        var above = AssemblyReferenceVersions(package.Read("lib/net8.0/SecretsCache.Redis.dll"))
            .Where(r => (r.Name.StartsWith("Microsoft.Extensions.", StringComparison.Ordinal) || r.Name.StartsWith("System.", StringComparison.Ordinal)) && r.Version.Major > 8)
            .Select(r => r.Name)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Subset(new HashSet<string>(["Microsoft.Extensions.DependencyInjection.Abstractions", "Microsoft.Extensions.Logging.Abstractions", "System.Diagnostics.DiagnosticSource"]), new HashSet<string>(above));
        Assert.Contains("Microsoft.Extensions.Logging.Abstractions", above); // the check above saw what it is about
    }

    private static HashSet<string> AssemblyReferences(byte[] assembly) => [.. AssemblyReferenceVersions(assembly).Select(r => r.Name)];

    private static List<(string Name, Version Version)> AssemblyReferenceVersions(byte[] assembly)
    {
        using var pe = new PEReader(new MemoryStream(assembly));
        var reader = pe.GetMetadataReader();
        return [.. reader.AssemblyReferences.Select(h => reader.GetAssemblyReference(h)).Select(r => (reader.GetString(r.Name), r.Version))];
    }

    // "8.0.3" means at least 8.0.3; a range "[8.0.3, 9.0.0)" starts at its lower bound.
    private static Version MinimumVersion(string range)
    {
        var lower = range.Trim('[', '(', ' ').Split(',')[0].Split('-')[0].Trim();
        return Version.Parse(lower);
    }

    [GeneratedRegex(@"^Microsoft\.Extensions\.((DependencyInjection|Configuration|Hosting|Http|Diagnostics\.HealthChecks)(\.|$)|Options\.)")]
    private static partial Regex HostingPackage();
}

using System.Collections.Frozen;
using System.Text.RegularExpressions;
using Amazon;

namespace SecretsCache.Aws.Endpoints;

/// <summary>
/// Each partition's region pattern (<c>regionRegex</c>) and a known region of it, from AWSSDK.Core's partition data (the data
/// behind <see cref="PartitionInfo.FromAwsSdk"/>; a test holds the two in step). Built once, when the first ARN is parsed.
/// </summary>
internal static class PartitionRegions
{
    private static readonly FrozenDictionary<string, (Regex Pattern, string Example)> Partitions = Load();

    /// <summary>The partition names, in ordinal order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. Partitions.Keys.Order(StringComparer.Ordinal)];

    public static bool IsPartition(string name) => Partitions.ContainsKey(name);

    /// <summary>
    /// True when <paramref name="region"/> matches the partition's pattern. The patterns use <c>\w</c> and <c>\d</c>, which
    /// match any Unicode letter or digit, so callers first check that the region is lower-case ASCII.
    /// </summary>
    public static bool IsRegionOf(string partition, string region) =>
        Partitions.TryGetValue(partition, out var p) && p.Pattern.IsMatch(region);

    /// <summary>The partition whose pattern <paramref name="region"/> matches, or <see langword="null"/>.</summary>
    public static string? PartitionOf(string region)
    {
        foreach (var (name, p) in Partitions)
        {
            if (p.Pattern.IsMatch(region))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>
    /// Whether <paramref name="region"/> looks like a region name: lower-case ASCII letters, digits and hyphens, as a DNS
    /// label, with a hyphen inside. The partitions' patterns use <c>\w</c> and <c>\d</c>, which match any Unicode letter or
    /// digit, so they are applied only after this.
    /// </summary>
    public static bool IsRegionName(string region)
    {
        if (region.Length is < 4 or > 32 || region[0] == '-' || region[^1] == '-' || !region.Contains('-', StringComparison.Ordinal))
        {
            return false;
        }

        return region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
    }

    /// <summary>A region of the partition, for messages ("regions look like 'cn-north-1'").</summary>
    public static string ExampleRegion(string partition) => Partitions[partition].Example;

    private static FrozenDictionary<string, (Regex Pattern, string Example)> Load()
    {
        var partitions = new Dictionary<string, (Regex, string)>(StringComparer.Ordinal);
        foreach (var region in RegionEndpoint.EnumerableAllRegions)
        {
            if (partitions.ContainsKey(region.PartitionName))
            {
                continue;
            }

            // Interpreted, not compiled: each pattern runs once per distinct ARN on a region of at most 32 characters.
            var pattern = new Regex(region.PartitionRegionRegex, RegexOptions.CultureInvariant);
            var example = RegionEndpoint.EnumerableAllRegions.First(r => r.PartitionName == region.PartitionName && pattern.IsMatch(r.SystemName));
            partitions.Add(region.PartitionName, (pattern, example.SystemName));
        }

        return partitions.ToFrozenDictionary(StringComparer.Ordinal);
    }
}

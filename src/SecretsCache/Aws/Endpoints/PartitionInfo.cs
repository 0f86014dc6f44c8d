using Amazon.Runtime.Internal.Endpoints.StandardLibrary;

namespace SecretsCache.Aws.Endpoints;

/// <summary>The partition facts the endpoint rule sets read (<c>aws.partition</c> results).</summary>
internal sealed record PartitionInfo(string Name, string DnsSuffix, string DualStackDnsSuffix, bool SupportsFips, bool SupportsDualStack)
{
    /// <summary>The partition AWSSDK.Core assigns to a region; unknown regions fall back to <c>aws</c>, as in every AWS SDK.</summary>
    public static PartitionInfo? FromAwsSdk(string region) =>
        Fn.Partition(region) is { } partition
            ? new PartitionInfo(partition.name, partition.dnsSuffix, partition.dualStackDnsSuffix, partition.supportsFIPS, partition.supportsDualStack)
            : null;
}

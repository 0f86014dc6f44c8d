using Amazon;
using Amazon.Runtime.Internal.Endpoints.StandardLibrary;
using SecretsCache.Aws.Endpoints;

namespace SecretsCache.Tests.References;

/// <summary>
/// An ARN's region must match the region pattern (<c>regionRegex</c>) of the partition the ARN names, as AWSSDK.Core's
/// partition data has it, so a typo such as <c>eu-west1</c> fails when parsed instead of on DNS.
/// </summary>
public sealed class ArnRegionTests
{
    private const string Account = "123456789012";

    public static TheoryData<string, string> RegionsOfEveryPartition => new()
    {
        { "aws", "us-east-1" },
        { "aws", "eu-west-1" },
        { "aws", "mx-central-1" },
        { "aws", "ap-southeast-7" },
        { "aws", "us-east-9" },          // not launched yet, but in the pattern: new regions work without a library update
        { "aws-cn", "cn-northwest-1" },
        { "aws-us-gov", "us-gov-east-1" },
        { "aws-iso", "us-iso-east-1" },
        { "aws-iso-b", "us-isob-east-1" },
        { "aws-iso-e", "eu-isoe-west-1" },
        { "aws-iso-f", "us-isof-south-1" },
        { "aws-eusc", "eusc-de-east-1" },
    };

    [Theory]
    [MemberData(nameof(RegionsOfEveryPartition))]
    public void A_region_of_the_ARNs_partition_is_accepted_in_every_ARN_form(string partition, string region)
    {
        var secret = $"arn:{partition}:secretsmanager:{region}:{Account}:secret:app/db-AbCdEf";
        var parameter = $"arn:{partition}:ssm:{region}:{Account}:parameter/app/db";

        Assert.Equal(region, SecretReference.Parse(secret).Region);
        Assert.Equal(partition, SecretReference.Parse(parameter).Partition);
        Assert.True(SecretReference.Parse("/aws/reference/secretsmanager/" + secret).IsPassthrough);
    }

    [Theory]
    [InlineData("aws", "eu-west1")]
    [InlineData("aws", "euwest-1")]
    [InlineData("aws", "eu-west-one")]
    [InlineData("aws", "xx-mars-1")]
    [InlineData("aws", "us-east-1-regional")]
    [InlineData("aws", "aws-global")]
    [InlineData("aws-cn", "cn-north1")]
    [InlineData("aws-eusc", "eusc-fr-east-1")]
    public void A_region_that_matches_no_pattern_is_refused_when_parsed(string partition, string region)
    {
        foreach (var text in ArnForms(partition, region))
        {
            var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

            Assert.Contains($"'{region}' is not a region of partition '{partition}'", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("aws", "cn-north-1", "aws-cn")]
    [InlineData("aws", "us-gov-west-1", "aws-us-gov")]
    [InlineData("aws-cn", "us-east-1", "aws")]
    [InlineData("aws-us-gov", "us-isob-east-1", "aws-iso-b")]
    public void A_region_of_another_partition_names_that_partition(string partition, string region, string actual)
    {
        foreach (var text in ArnForms(partition, region))
        {
            var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

            Assert.Contains($"'{region}' is a region of partition '{actual}', not of '{partition}'", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("us-\u00e9ast-1")]   // \w in the patterns matches any letter; regions are ASCII
    [InlineData("us-east-\u0661")]   // and \d any digit
    [InlineData("US-EAST-1")]
    public void The_patterns_are_applied_to_ASCII_lower_case_regions_only(string region) =>
        Assert.Throws<ArgumentException>(() => SecretReference.Parse($"arn:aws:secretsmanager:{region}:{Account}:secret:app"));

    [Fact]
    public void The_partitions_are_AWSSDK_Cores_and_agree_with_the_partition_the_endpoint_resolver_uses()
    {
        var patterns = RegionEndpoint.EnumerableAllRegions.Select(r => r.PartitionRegionRegex).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(RegionEndpoint.AllPartitionRegionRegex.Order(StringComparer.Ordinal), patterns);
        Assert.Equal(RegionEndpoint.EnumerableAllRegions.Select(r => r.PartitionName).Distinct().Order(StringComparer.Ordinal), PartitionRegions.Names);

        foreach (var region in RegionEndpoint.EnumerableAllRegions.Where(r => char.IsAsciiDigit(r.SystemName[^1])))
        {
            // The region is accepted in exactly the partition whose endpoints the resolver would use.
            Assert.Equal(Fn.Partition(region.SystemName).name, PartitionRegions.PartitionOf(region.SystemName));
            Assert.True(PartitionRegions.IsRegionOf(region.PartitionName, region.SystemName), region.SystemName);
        }
    }

    private static IEnumerable<string> ArnForms(string partition, string region)
    {
        var secret = $"arn:{partition}:secretsmanager:{region}:{Account}:secret:app/db-AbCdEf";
        yield return secret;
        yield return "sm:" + secret + "?stage=AWSPREVIOUS";
        yield return $"arn:{partition}:ssm:{region}:{Account}:parameter/app/db:3";
        yield return "/aws/reference/secretsmanager/" + secret + ":AWSPREVIOUS";
    }
}

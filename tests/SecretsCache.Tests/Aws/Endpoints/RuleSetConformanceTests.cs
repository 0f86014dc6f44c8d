using System.Text.Json;
using Amazon;
using Amazon.Runtime.Internal.Endpoints.StandardLibrary;
using SecretsCache.Aws.Endpoints;

namespace SecretsCache.Tests.Aws.Endpoints;

/// <summary>
/// The resolver against AWS's own endpoint rule sets, evaluated by <see cref="EndpointRuleSet"/>: every region
/// AWSSDK.Core knows, some unknown ones, synthetic partitions for the branches no real partition takes, and custom
/// endpoints, each with FIPS and dual-stack on and off. Every endpoint and error rule must be reached.
/// </summary>
public sealed class RuleSetConformanceTests
{
    private static readonly string[] UnknownRegions =
        ["us-east-9", "cn-north-9", "us-gov-east-9", "eu-isoe-west-9", "us-iso-east-9", "us-isob-east-9", "us-isof-south-9", "eusc-de-east-9", "xx-mars-1"];

    // Partitions AWSSDK.Core does not have: ones lacking FIPS or dual-stack, and look-alikes of the partitions the rule
    // sets special-case by name, with other suffixes, to show the special cases hard-code their host.
    private static readonly Dictionary<string, Partition> SyntheticPartitions = new(StringComparer.Ordinal)
    {
        ["test-nofips-1"] = Synthetic("aws-test", fips: false, dualStack: true),
        ["test-nodualstack-1"] = Synthetic("aws-test", fips: true, dualStack: false),
        ["test-neither-1"] = Synthetic("aws-test", fips: false, dualStack: false),
        ["test-awslike-1"] = Synthetic("aws", fips: true, dualStack: true),
        ["test-cnlike-1"] = Synthetic("aws-cn", fips: true, dualStack: true),
        ["test-govlike-1"] = Synthetic("aws-us-gov", fips: true, dualStack: true),
    };

    private static readonly (bool Fips, bool DualStack)[] FlagCombinations = [(false, false), (true, false), (false, true), (true, true)];

    private static readonly Dictionary<string, string?> NoEnvironment = [];

    [Theory]
    [InlineData("secretsmanager")]
    [InlineData("ssm")]
    public void Resolver_agrees_with_the_rule_set_for_every_region_partition_flag_and_custom_endpoint(string model)
    {
        var service = ServiceFor(model);
        var realRules = EndpointRuleSet.Load(model);
        var syntheticRules = EndpointRuleSet.Load(model, region => SyntheticPartitions[region]);
        var signingName = SigningNameFromServiceModel(model);
        var failures = new List<string>();
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var compared = 0;

        var realRegions = RegionEndpoint.EnumerableAllRegions.Select(r => r.SystemName).Concat(UnknownRegions).ToList();
        Assert.Contains("us-gov-west-1", realRegions);
        Assert.Contains("cn-north-1", realRegions);
        Assert.Contains("eusc-de-east-1", realRegions);
        foreach (var (fips, dualStack) in FlagCombinations)
        {
            foreach (var region in realRegions)
            {
                Compare(realRules, region, new EndpointSettings(null, fips, dualStack),
                    () => AwsEndpointResolver.Resolve(service, region, new EndpointSettings(null, fips, dualStack), NoEnvironment.GetValueOrDefault));
            }

            foreach (var region in SyntheticPartitions.Keys)
            {
                var settings = new EndpointSettings(null, fips, dualStack);
                Compare(syntheticRules, region, settings,
                    () => AwsEndpointResolver.Resolve(service, region, settings, NoEnvironment.GetValueOrDefault, r => ToInfo(SyntheticPartitions[r])));
            }

            foreach (var custom in new[] { "https://vpce-1234.secretsmanager.us-east-1.vpce.amazonaws.com", "http://localhost:4566" })
            {
                var settings = new EndpointSettings(custom, fips, dualStack);
                Compare(realRules, "us-east-1", settings, () => AwsEndpointResolver.Resolve(service, "us-east-1", settings, NoEnvironment.GetValueOrDefault));
            }
        }

        // No region: the rule set's own error, where the resolver asks for one by name.
        var missing = realRules.Evaluate(BuiltIns(null, new EndpointSettings(null, false, false)));
        Assert.Equal("Invalid Configuration: Missing Region", missing.Error);
        reached.Add(missing.Leaf);
        var noRegion = Assert.Throws<SecretsConfigurationException>(() => AwsEndpointResolver.Resolve(service, "", new EndpointSettings(null, false, false), NoEnvironment.GetValueOrDefault));
        Assert.Equal(SecretsCache.Aws.Identity.RegionResolver.NoRegionMessage, noRegion.Message);

        Assert.True(failures.Count == 0, $"{failures.Count} of {compared} differ:\n" + string.Join("\n", failures));
        Assert.Equal(realRules.Leaves.Order(StringComparer.Ordinal), reached.Order(StringComparer.Ordinal));
        Assert.Equal(4 * (realRegions.Count + SyntheticPartitions.Count + 2), compared);

        void Compare(EndpointRuleSet rules, string region, EndpointSettings settings, Func<ResolvedEndpoint> resolve)
        {
            compared++;
            var expected = rules.Evaluate(BuiltIns(region, settings));
            reached.Add(expected.Leaf);
            var label = $"{region} fips={settings.UseFips} dualstack={settings.UseDualStack} endpoint={settings.ServiceUrl}";
            try
            {
                var actual = resolve();
                if (expected.Error is not null)
                {
                    failures.Add($"{label}: rule set says error '{expected.Error}', resolver gave {actual.Url}");
                }
                else if (actual.Url.AbsoluteUri != new Uri(expected.Url!).AbsoluteUri
                    || actual.SigningRegion != (expected.SigningRegion ?? region)
                    || actual.SigningService != (expected.SigningName ?? signingName))
                {
                    failures.Add($"{label}: rule set says {expected.Url} ({expected.SigningRegion ?? region}/{expected.SigningName ?? signingName}), resolver gave {actual}");
                }
            }
            catch (SecretsConfigurationException ex)
            {
                if (expected.Error is null || !ex.Message.StartsWith(expected.Error, StringComparison.Ordinal))
                {
                    failures.Add($"{label}: rule set says {expected.Url ?? expected.Error}, resolver threw '{ex.Message}'");
                }
            }
        }
    }

    [Theory]
    [InlineData("secretsmanager", "us-east-1", false, false, "https://secretsmanager.us-east-1.amazonaws.com/")]
    [InlineData("secretsmanager", "us-east-1", true, false, "https://secretsmanager-fips.us-east-1.amazonaws.com/")]
    [InlineData("secretsmanager", "us-east-1", false, true, "https://secretsmanager.us-east-1.amazonaws.com/")]
    [InlineData("secretsmanager", "eu-west-1", true, true, "https://secretsmanager-fips.eu-west-1.amazonaws.com/")]
    [InlineData("secretsmanager", "cn-north-1", false, false, "https://secretsmanager.cn-north-1.amazonaws.com.cn/")]
    [InlineData("secretsmanager", "cn-north-1", false, true, "https://secretsmanager.cn-north-1.amazonaws.com.cn/")]
    [InlineData("secretsmanager", "cn-north-1", true, true, "https://secretsmanager-fips.cn-north-1.api.amazonwebservices.com.cn/")]
    [InlineData("secretsmanager", "us-gov-west-1", true, false, "https://secretsmanager-fips.us-gov-west-1.amazonaws.com/")]
    [InlineData("secretsmanager", "eu-isoe-west-1", false, true, "https://secretsmanager.eu-isoe-west-1.api.cloud-aws.adc-e.uk/")]
    [InlineData("secretsmanager", "eusc-de-east-1", false, false, "https://secretsmanager.eusc-de-east-1.amazonaws.eu/")]
    [InlineData("ssm", "us-east-1", false, false, "https://ssm.us-east-1.amazonaws.com/")]
    [InlineData("ssm", "us-east-1", false, true, "https://ssm.us-east-1.api.aws/")]
    [InlineData("ssm", "us-east-1", true, true, "https://ssm-fips.us-east-1.api.aws/")]
    [InlineData("ssm", "us-gov-west-1", true, false, "https://ssm.us-gov-west-1.amazonaws.com/")]
    [InlineData("ssm", "us-gov-west-1", true, true, "https://ssm-fips.us-gov-west-1.api.aws/")]
    [InlineData("ssm", "us-iso-east-1", true, false, "https://ssm-fips.us-iso-east-1.c2s.ic.gov/")]
    [InlineData("ssm", "us-isob-east-1", false, false, "https://ssm.us-isob-east-1.sc2s.sgov.gov/")]
    public void Hand_checked_endpoints_match_both_the_resolver_and_the_interpreter(string model, string region, bool fips, bool dualStack, string url)
    {
        var service = ServiceFor(model);
        var settings = new EndpointSettings(null, fips, dualStack);

        var resolved = AwsEndpointResolver.Resolve(service, region, settings, NoEnvironment.GetValueOrDefault);

        Assert.Equal(url, resolved.Url.AbsoluteUri);
        Assert.Equal(region, resolved.SigningRegion);
        Assert.Equal(model, resolved.SigningService);
        Assert.Equal(url, EndpointRuleSet.Load(model).Evaluate(BuiltIns(region, settings)).Url + "/");
    }

    [Fact]
    public void Partition_data_is_read_from_AWSSDK_Core_as_the_interpreter_reads_it()
    {
        foreach (var region in RegionEndpoint.EnumerableAllRegions.Select(r => r.SystemName).Concat(UnknownRegions))
        {
            var sdk = Fn.Partition(region);
            Assert.Equal(ToInfo(sdk), PartitionInfo.FromAwsSdk(region));
        }
    }

    [Fact]
    public void A_region_in_no_partition_is_a_configuration_error()
    {
        var ex = Assert.Throws<SecretsConfigurationException>(() => AwsEndpointResolver.Resolve(
            AwsService.SecretsManager, "us-east-1", new EndpointSettings(null, false, false), NoEnvironment.GetValueOrDefault, _ => null));
        Assert.Contains("'us-east-1'", ex.Message, StringComparison.Ordinal);
    }

    private static AwsService ServiceFor(string model) => model == "ssm" ? AwsService.ParameterStore : AwsService.SecretsManager;

    private static Dictionary<string, object?> BuiltIns(string? region, EndpointSettings settings) => new(StringComparer.Ordinal)
    {
        ["AWS::Region"] = region,
        ["AWS::UseFIPS"] = settings.UseFips,
        ["AWS::UseDualStack"] = settings.UseDualStack,
        ["SDK::Endpoint"] = settings.ServiceUrl,
    };

    // A model without signingName signs with its endpointPrefix (SSM's does).
    private static string SigningNameFromServiceModel(string model)
    {
        var metadata = ServiceModelMetadata(model);
        return (metadata.TryGetProperty("signingName", out var name) ? name : metadata.GetProperty("endpointPrefix")).GetString()!;
    }

    internal static JsonElement ServiceModelMetadata(string model)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AwsModels.Directory, model, "service-2.json")));
        return document.RootElement.GetProperty("metadata").Clone();
    }

    // Read through the indexer, as the interpreter's getAttr does, so a mix-up in PartitionInfo.FromAwsSdk shows.
    private static PartitionInfo ToInfo(Partition p) =>
        new((string)p["name"], (string)p["dnsSuffix"], (string)p["dualStackDnsSuffix"], (bool)p["supportsFIPS"], (bool)p["supportsDualStack"]);

    private static Partition Synthetic(string name, bool fips, bool dualStack) => new()
    {
        name = name,
        dnsSuffix = "example.test",
        dualStackDnsSuffix = "dualstack.example.test",
        supportsFIPS = fips,
        supportsDualStack = dualStack,
        implicitGlobalRegion = "test-global-1",
    };
}

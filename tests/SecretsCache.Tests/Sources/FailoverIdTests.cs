using SecretsCache.References;
using SecretsCache.Sources;

namespace SecretsCache.Tests.Sources;

/// <summary>What a failover read sends: a replica keeps its primary's name and ARN suffix, so names go as they are and ARNs change region only.</summary>
public sealed class FailoverIdTests
{
    private const string Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf";

    [Fact]
    public void A_name_is_sent_as_it_is()
    {
        var reference = SecretReference.Parse("app/db");

        Assert.Equal("app/db", SecretsManagerReader.IdIn(reference, "eu-west-1"));
    }

    [Fact]
    public void An_arn_gets_the_replica_region_and_keeps_everything_else()
    {
        var reference = SecretReference.Parse(Arn);

        Assert.Equal("arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf", SecretsManagerReader.IdIn(reference, "eu-west-1"));
        Assert.Equal(Arn, SecretsManagerReader.IdIn(reference, "us-east-1"));
    }

    [Fact]
    public void A_partial_arn_and_one_whose_name_holds_colons_keep_their_resource()
    {
        Assert.Equal(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:team:app/db",
            AwsArn.WithRegion("arn:aws:secretsmanager:us-east-1:123456789012:secret:team:app/db", "eu-west-1"));
        Assert.Equal(
            "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db",
            SecretsManagerReader.IdIn(SecretReference.Parse("arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db"), "eu-west-1"));
    }

    [Fact]
    public void A_rewritten_arn_parses_back_to_the_replica_region()
    {
        var rewritten = AwsArn.WithRegion(Arn, "ap-southeast-2");

        var parsed = SecretReference.Parse(rewritten);

        Assert.Equal("ap-southeast-2", parsed.Region);
        Assert.Equal("123456789012", parsed.AccountId);
        Assert.Equal(rewritten, parsed.Name);
    }
}

namespace SecretsCache.Tests;

/// <summary>The reference syntax is a public contract: each accepted form, what it resolves to, and how bad input is refused.</summary>
public sealed class SecretReferenceTests
{
    private const string VersionId32 = "0123456789abcdef0123456789abcdef";
    private const string Guid = "0f8fad5b-d9cb-469f-a165-70867728950e";

    [Theory]
    [InlineData("app/db-creds")]
    [InlineData("sm:app/db-creds")]
    [InlineData("app/db-creds?stage=AWSCURRENT")]
    [InlineData("sm:app/db-creds?stage=AWSCURRENT")]
    public void A_plain_name_and_its_sm_form_are_one_Secrets_Manager_secret(string text)
    {
        var reference = SecretReference.Parse(text);

        Assert.Equal(SecretStore.SecretsManager, reference.Store);
        Assert.Equal("app/db-creds", reference.Name);
        Assert.Null(reference.VersionStage);
        Assert.Null(reference.VersionId);
        Assert.False(reference.IsPassthrough);
        Assert.Null(reference.Region);
        Assert.Equal("sm:app/db-creds", reference.ToString());
        Assert.Equal(SecretReference.Parse("app/db-creds"), reference);
        Assert.Equal(SecretReference.Parse("app/db-creds").GetHashCode(), reference.GetHashCode());
    }

    [Fact]
    public void A_stage_other_than_AWSCURRENT_is_a_different_reference()
    {
        var previous = SecretReference.Parse("app/db-creds?stage=AWSPREVIOUS");

        Assert.Equal("AWSPREVIOUS", previous.VersionStage);
        Assert.Equal("sm:app/db-creds?stage=AWSPREVIOUS", previous.ToString());
        Assert.NotEqual(SecretReference.Parse("app/db-creds"), previous);
        Assert.Equal(previous, SecretReference.Parse("sm:app/db-creds?stage=AWSPREVIOUS"));
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void A_version_id_of_32_to_64_characters_is_accepted(int length)
    {
        var id = new string('a', length);

        var reference = SecretReference.Parse($"app/db-creds?versionId={id}");

        Assert.Equal(id, reference.VersionId);
        Assert.Null(reference.VersionStage);
        Assert.Equal($"sm:app/db-creds?versionId={id}", reference.ToString());
    }

    [Theory]
    [InlineData("arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-creds-AbCdEf", "aws", "eu-west-1")]
    [InlineData("arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:app/db-creds-AbCdEf", "aws-cn", "cn-north-1")]
    [InlineData("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:app/db-creds-AbCdEf", "aws-us-gov", "us-gov-west-1")]
    public void A_Secrets_Manager_ARN_carries_its_partition_region_and_account(string arn, string partition, string region)
    {
        var reference = SecretReference.Parse(arn);

        Assert.Equal(SecretStore.SecretsManager, reference.Store);
        Assert.Equal(arn, reference.Name);
        Assert.Equal(partition, reference.Partition);
        Assert.Equal(region, reference.Region);
        Assert.Equal("123456789012", reference.AccountId);
        Assert.Equal(reference, SecretReference.Parse("sm:" + arn));
        Assert.Equal("AWSPREVIOUS", SecretReference.Parse(arn + "?stage=AWSPREVIOUS").VersionStage);
    }

    [Fact]
    public void A_parameter_reads_the_latest_version_or_a_chosen_version_or_label()
    {
        var latest = SecretReference.Parse("ssm:/app/prod/db/password");
        var third = SecretReference.Parse("ssm:/app/prod/db/password:3");
        var labelled = SecretReference.Parse("ssm:/app/prod/db/password:blue");

        Assert.All([latest, third, labelled], r =>
        {
            Assert.Equal(SecretStore.ParameterStore, r.Store);
            Assert.Equal("/app/prod/db/password", r.Name);
            Assert.False(r.IsPassthrough);
        });
        Assert.Null(latest.ParameterVersion);
        Assert.Null(latest.ParameterLabel);
        Assert.Equal(3, third.ParameterVersion);
        Assert.Equal("blue", labelled.ParameterLabel);
        Assert.Equal(3, new[] { latest, third, labelled }.Distinct().Count());
        Assert.Equal("ssm:/app/prod/db/password:3", third.ToString());
    }

    [Theory]
    [InlineData("", null, null)]
    [InlineData(":7", 7L, null)]
    [InlineData(":green", null, "green")]
    public void An_SSM_parameter_ARN_is_read_with_and_without_a_selector(string selector, long? version, string? label)
    {
        const string arn = "arn:aws:ssm:us-east-2:123456789012:parameter/app/prod/db/password";

        var reference = SecretReference.Parse(arn + selector);

        Assert.Equal(SecretStore.ParameterStore, reference.Store);
        Assert.Equal(arn, reference.Name);
        Assert.Equal(version, reference.ParameterVersion);
        Assert.Equal(label, reference.ParameterLabel);
        Assert.Equal("us-east-2", reference.Region);
        Assert.Equal("123456789012", reference.AccountId);
        Assert.Equal("aws", reference.Partition);
        Assert.Equal(reference, SecretReference.Parse("ssm:" + arn + selector));
    }

    [Theory]
    [InlineData("/aws/reference/secretsmanager/app/db")]
    [InlineData("ssm:/aws/reference/secretsmanager/app/db")]
    [InlineData("/aws/reference/secretsmanager/app/db:AWSCURRENT")]
    public void The_Parameter_Store_passthrough_to_a_secret_is_one_reference_in_either_spelling(string text)
    {
        var reference = SecretReference.Parse(text);

        Assert.Equal(SecretStore.ParameterStore, reference.Store);
        Assert.True(reference.IsPassthrough);
        Assert.Equal("/aws/reference/secretsmanager/app/db", reference.Name);
        Assert.Null(reference.VersionStage);
        Assert.Null(reference.VersionId);
        Assert.Equal(SecretReference.Parse("/aws/reference/secretsmanager/app/db"), reference);
        Assert.NotEqual(SecretReference.Parse("app/db"), reference);
    }

    [Fact]
    public void A_passthrough_selects_a_stage_or_a_version_id()
    {
        var previous = SecretReference.Parse("/aws/reference/secretsmanager/app/db:AWSPREVIOUS");
        var byId = SecretReference.Parse($"ssm:/aws/reference/secretsmanager/app/db:{Guid}");

        Assert.True(previous.IsPassthrough);
        Assert.Equal("AWSPREVIOUS", previous.VersionStage);
        Assert.Null(previous.VersionId);
        Assert.True(byId.IsPassthrough);
        Assert.Equal(Guid, byId.VersionId);
        Assert.Null(byId.VersionStage);
        Assert.NotEqual(previous, byId);
    }

    [Theory]
    [InlineData("", "must not be empty")]
    [InlineData("   ", "must not be empty")]
    [InlineData("\t\n", "must not be empty")]
    [InlineData(" app/db", "white space")]
    [InlineData("app/db creds", "contains '\\u0020'")]
    [InlineData("app/db#1", "contains '#'")]
    [InlineData("sm:", "must not be empty")]
    [InlineData("app/db?", "names no version")]
    [InlineData("app/db?stage=", "version stage must be 1 to 256")]
    [InlineData("app/db?versionId=abc", "version id must be 32 to 64")]
    [InlineData("app/db?stage=AWSPREVIOUS&versionId=" + VersionId32, "not both")]
    [InlineData("app/db?stage=A&stage=B", "names 'stage' twice")]
    [InlineData("app/db?colour=blue", "Unknown reference option 'colour'")]
    [InlineData("arn:aws-moon:secretsmanager:us-east-1:123456789012:secret:app/db", "unknown partition 'aws-moon'")]
    [InlineData("arn:aws:secretsmanager:US_EAST:123456789012:secret:app/db", "'US_EAST' is not a region")]
    [InlineData("arn:aws:secretsmanager:us-east-1:12345:secret:app/db", "account id must be 12 digits")]
    [InlineData("arn:aws:secretsmanager:us-east-1:1234567890ab:secret:app/db", "account id must be 12 digits")]
    [InlineData("arn:aws:s3:us-east-1:123456789012:bucket/app", "names the service 's3'")]
    [InlineData("arn:aws:secretsmanager:us-east-1:123456789012:rotation:app/db", "must look like 'arn:aws:secretsmanager")]
    [InlineData("arn:aws:secretsmanager:us-east-1:123456789012", "malformed ARN")]
    [InlineData("sm:arn:aws:ssm:us-east-1:123456789012:parameter/app", "must look like 'arn:aws:secretsmanager")]
    [InlineData("arn:aws:ssm:us-east-1:123456789012:document/app", "must look like 'arn:aws:ssm")]
    [InlineData("arn:aws:ssm:us-east-1:123456789012:parameter", "must name a parameter")]
    [InlineData("ssm:/app/x:0", "whole number from 1 up")]
    [InlineData("ssm:/app/x:00", "whole number from 1 up")]
    [InlineData("ssm:/app/x:3x", "whole number from 1 up")]
    [InlineData("ssm:/app/x:99999999999999999999", "whole number from 1 up")]
    [InlineData("ssm:/app/x:awsblue", "must not begin with 'aws' or 'ssm'")]
    [InlineData("ssm:/app/x:SSM-blue", "must not begin with 'aws' or 'ssm'")]
    [InlineData("ssm:/app/x:blue!", "label contains '!'")]
    [InlineData("ssm:/app/x:", "names no version or label")]
    [InlineData("ssm:/app/x?version=3", "not with '?'")]
    [InlineData("ssm:app/x", "must start with '/'")]
    [InlineData("ssm:/app//x", "must not contain '//'")]
    [InlineData("ssm:/app/x y", "contains '\\u0020'")]
    [InlineData("/aws/reference/secretsmanager/", "must name a secret")]
    [InlineData("/aws/reference/secretsmanager/app/db:", "version stage or version id")]
    public void Malformed_input_fails_fast_with_a_message_that_says_what_is_wrong(string text, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.False(SecretReference.TryParse(text, out var none));
        Assert.Null(none);
    }

    public static TheoryData<string, string> OverLong => new()
    {
        { "sm:" + new string('a', 513), "the limit is 512" },
        { "ssm:/" + new string('a', 2048), "the limit is 2048" },
        { "ssm:/app/x:l" + new string('a', 100), "at most 100" },
        { "ssm:/" + new string('a', 2047) + ":3", "the limit is 2048" },   // AWS reads "name:3" as one PSParameterName
        { "ssm:/" + new string('a', 2040) + ":label12", "the limit is 2048" },
        { "arn:aws:ssm:us-east-1:123456789012:parameter/" + new string('a', 2010) + ":3", "the limit is 2048" },
        { "/aws/reference/secretsmanager/" + new string('a', 513), "the limit is 512" },
        { "app/db?versionId=" + new string('a', 65), "32 to 64" },
        { "app/db?stage=" + new string('a', 257), "1 to 256" },
        { new string('a', 5000), "characters long" },
    };

    [Theory]
    [MemberData(nameof(OverLong))]
    public void Over_long_names_and_selectors_are_refused(string text, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_longest_names_AWS_accepts_are_accepted()
    {
        Assert.Equal(512, SecretReference.Parse(new string('a', 512)).Name.Length);
        Assert.Equal(2048, SecretReference.Parse("ssm:/" + new string('a', 2047)).Name.Length);
        Assert.Equal(100, SecretReference.Parse("ssm:/app/x:l" + new string('a', 99)).ParameterLabel!.Length);
        Assert.Equal(3, SecretReference.Parse("ssm:/" + new string('a', 2045) + ":3").ParameterVersion);

        // A stage of 256 three-byte characters is 2,304 characters escaped in the canonical text, which must parse again.
        foreach (var id in new[] { new string('a', 512), "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:" + new string('a', 519) })
        {
            var longest = SecretReference.Parse(id + "?stage=" + new string('\u20ac', 256));
            Assert.Equal(256, longest.VersionStage!.Length);
            Assert.Equal(longest.VersionStage, SecretReference.Parse(longest.ToString()).VersionStage);
        }
    }

    [Fact]
    public void Text_that_is_not_well_formed_UTF16_is_refused()
    {
        // In code, not [InlineData]: the test runner's serialisation would turn a lone surrogate into U+FFFD.
        string[] texts = ["app/db?stage=\ud800", "app/db?stage=AWS\udc00PREVIOUS", "/aws/reference/secretsmanager/app/db:\ud83d", "app/db?stage=%41\ud800"];
        foreach (var text in texts)
        {
            var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));
            Assert.Contains("lone surrogate", error.Message, StringComparison.Ordinal);
        }

        Assert.Equal("\ud83d\udd11", SecretReference.Parse("app/db?stage=\ud83d\udd11").VersionStage);
    }

    [Fact]
    public void Null_is_refused_with_an_ArgumentNullException()
    {
        Assert.Throws<ArgumentNullException>(() => SecretReference.Parse(null!));
        Assert.False(SecretReference.TryParse(null, out _));
    }

    [Fact]
    public void A_refusal_quotes_the_reference_which_is_a_name_never_a_value()
    {
        // References name secrets; the value is never part of one, so the message can say which reference was wrong.
        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse("prod/db creds"));

        Assert.StartsWith("Invalid secret reference 'prod/db creds': ", error.Message, StringComparison.Ordinal);
    }
}

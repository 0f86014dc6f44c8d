namespace SecretsCache.Tests.References;

/// <summary>A secret ARN read through the Parameter Store passthrough keeps its colons: only a selector after the ARN is split off.</summary>
public sealed class PassthroughArnTests
{
    private const string Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf";

    [Theory]
    [InlineData("/aws/reference/secretsmanager/" + Arn)]
    [InlineData("ssm:/aws/reference/secretsmanager/" + Arn)]
    public void A_passthrough_ARN_is_one_name(string text)
    {
        var reference = SecretReference.Parse(text);
        Assert.True(reference.IsPassthrough);
        Assert.Equal(SecretStore.ParameterStore, reference.Store);
        Assert.Equal("/aws/reference/secretsmanager/" + Arn, reference.Name);
        Assert.Null(reference.VersionStage);
        Assert.Null(reference.VersionId);
    }

    [Fact]
    public void A_selector_after_the_ARN_picks_the_stage()
    {
        var reference = SecretReference.Parse("/aws/reference/secretsmanager/" + Arn + ":AWSPREVIOUS");
        Assert.Equal("/aws/reference/secretsmanager/" + Arn, reference.Name);
        Assert.Equal("AWSPREVIOUS", reference.VersionStage);
        Assert.Equal("ssm:/aws/reference/secretsmanager/" + Arn + ":AWSPREVIOUS", reference.ToString());
    }

    [Fact]
    public void A_passthrough_ARN_whose_canonical_text_could_not_be_parsed_again_is_refused_up_front()
    {
        // Parsed before the fix; "ssm:" + this was over the length limit, so ExecuteAsync failed after an authentication failure.
        var text = "/aws/reference/secretsmanager/arn:aws:secretsmanager:us-east-1:123456789012:secret:" + new string('a', 2265);

        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

        Assert.Contains("the limit is 519", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/aws/reference/secretsmanager/arn:aws:secretsmanager:us-east-1:123456789012:secret:", 519)]
    [InlineData("arn:aws:secretsmanager:us-east-1:123456789012:secret:", 519)]
    [InlineData("/aws/reference/secretsmanager/", 512)]
    public void The_longest_secret_names_round_trip_and_have_a_pending_form(string prefix, int longest)
    {
        var reference = SecretReference.Parse(prefix + new string('a', longest));

        Assert.Equal(reference, SecretReference.Parse(reference.ToString()));
        Assert.NotNull(SecretReference.Parse(SecretsCache.Rotation.RotationExecutor.PendingReferenceOf(reference)!));
        Assert.Throws<ArgumentException>(() => SecretReference.Parse(prefix + new string('a', longest + 1)));
    }

    [Theory]
    [InlineData("/aws/reference/secretsmanager/arn:aws:ssm:us-east-1:123456789012:parameter/x")]
    [InlineData("/aws/reference/secretsmanager/arn:aws:secretsmanager:us-east-1:12345:secret:x")]
    [InlineData("/aws/reference/secretsmanager/arn:aws:secretsmanager:us-east-1:123456789012:secret:x:AWSCURRENT:extra")]
    public void A_malformed_passthrough_ARN_is_rejected(string text) =>
        Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));
}

/// <summary>Passthrough names are secret names: the characters Secrets Manager allows (+ = @) are accepted.</summary>
public sealed class PassthroughNameTests
{
    [Theory]
    [InlineData("/aws/reference/secretsmanager/team+app=prod@db")]
    [InlineData("ssm:/aws/reference/secretsmanager/team+app=prod@db:AWSPREVIOUS")]
    public void Secret_name_characters_are_allowed(string text)
    {
        var reference = SecretReference.Parse(text);
        Assert.True(reference.IsPassthrough);
        Assert.StartsWith("/aws/reference/secretsmanager/team+app=prod@db", reference.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Characters_no_secret_name_allows_are_still_rejected() =>
        Assert.Throws<ArgumentException>(() => SecretReference.Parse("/aws/reference/secretsmanager/app db"));
}

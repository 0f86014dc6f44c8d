using Amazon.Runtime;
using SecretsCache.Aws.Protocol;

namespace SecretsCache.Tests.Aws.Protocol;

/// <summary>Environment keys are taken as AWSSDK.Core's chain takes them first, without building the chain.</summary>
public sealed class CredentialsFromEnvironmentTests
{
    [Fact]
    public async Task Keys_without_a_token_are_basic_credentials()
    {
        var credentials = AwsCredentialsSource.FromEnvironment(Environment(("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret")));

        var basic = Assert.IsType<BasicAWSCredentials>(credentials);
        var resolved = await basic.GetCredentialsAsync();
        Assert.Equal(("AKIDEXAMPLE", "secret", false), (resolved.AccessKey, resolved.SecretKey, resolved.UseToken));
    }

    [Fact]
    public async Task Keys_with_a_token_are_session_credentials()
    {
        var credentials = AwsCredentialsSource.FromEnvironment(Environment(("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE"), ("AWS_SECRET_ACCESS_KEY", "secret"), ("AWS_SESSION_TOKEN", "token")));

        var resolved = await Assert.IsType<SessionAWSCredentials>(credentials).GetCredentialsAsync();
        Assert.Equal(("ASIAEXAMPLE", "token"), (resolved.AccessKey, resolved.Token));
    }

    [Theory]
    [InlineData(null, "secret")]
    [InlineData("AKIDEXAMPLE", null)]
    [InlineData(" ", "secret")]
    [InlineData("AKIDEXAMPLE", "")]
    public void Without_both_keys_the_chain_is_asked(string? key, string? secret) =>
        Assert.Null(AwsCredentialsSource.FromEnvironment(Environment(("AWS_ACCESS_KEY_ID", key), ("AWS_SECRET_ACCESS_KEY", secret))));

    [Fact]
    public async Task The_provider_signs_with_the_environment_keys_it_was_given()
    {
        var source = new AwsCredentialsSource(null, environment: Environment(("AWS_ACCESS_KEY_ID", "AKIDFROMENV"), ("AWS_SECRET_ACCESS_KEY", "secret")));

        Assert.Equal("AKIDFROMENV", (await source.GetAsync()).AccessKey);
    }

    private static Func<string, string?> Environment(params (string Name, string? Value)[] variables) =>
        name => variables.FirstOrDefault(v => v.Name == name).Value;
}

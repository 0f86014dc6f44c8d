using SecretsCache.Testing;

namespace SecretsCache.IntegrationTests.Provider;

public sealed class SmokeTests
{
    [Fact]
    public async Task The_provider_reads_both_services_through_the_emulator_over_real_http()
    {
        await using var aws = await AwsEmulator.StartAsync();
        aws.CreateSecret("app/db", "{\"password\":\"s3cr3t\"}");
        aws.PutParameter("/app/prod/url", "https://example.com", "String");
        aws.PutParameter("/app/prod/key", "k3y");
        using var provider = new SecretProvider(new SecretsCacheOptions().UseEmulator(aws));

        Assert.Equal("{\"password\":\"s3cr3t\"}", await provider.GetStringAsync("app/db"));
        Assert.Equal("https://example.com", await provider.GetStringAsync("ssm:/app/prod/url"));
        Assert.Equal("k3y", await provider.GetStringAsync("ssm:/app/prod/key"));
        Assert.Equal("{\"password\":\"s3cr3t\"}", await provider.GetStringAsync("/aws/reference/secretsmanager/app/db"));
        var all = await provider.GetPathAsync("/app/prod/");
        Assert.Equal(2, all.Count);
        var warm = await provider.WarmUpAsync(["sm:app/db", "ssm:/app/prod/url", "ssm:/nope"]);
        Assert.Single(warm.Failures);
        Assert.Equal(1, aws.Requests.Count("secretsmanager.GetSecretValue"));
    }
}

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

/// <summary>BatchGetSecretValue draws on a token bucket of its own, as it has a quota of its own.</summary>
public sealed class BatchRateLimitTests
{
    [Fact]
    public async Task Batch_calls_use_their_own_budget_not_the_GetSecretValue_one()
    {
        await using var aws = await AwsEmulator.StartAsync();
        var names = Enumerable.Range(0, 20).Select(i => $"batch-limit/{i}").ToList();
        foreach (var name in names)
        {
            aws.CreateSecret(name, "v");
        }

        aws.CreateSecret("batch-limit/single", "v");
        var options = new SecretsCacheOptions().UseEmulator(aws);
        options.RateLimits.Behavior = RateLimitBehavior.FailFast;
        options.RateLimits.SecretsManagerRequestsPerSecond = 0.02; // with a minute of burst: one token now, then nothing for 50 s
        options.RateLimits.SecretsManagerBatchRequestsPerSecond = 0.02;
        options.RateLimits.BurstSeconds = 60;
        using var provider = new SecretProvider(options);

        var warm = await provider.WarmUpAsync(names);   // the batch bucket's one token
        Assert.True(warm.Succeeded);
        Assert.Equal(1, aws.Requests.Count("secretsmanager.BatchGetSecretValue"));

        Assert.Equal("v", await provider.GetStringAsync("batch-limit/single")); // the GetSecretValue bucket's one token
        var refused = await Assert.ThrowsAsync<SecretThrottledException>(() => provider.RefreshAsync("batch-limit/0").AsTask());
        Assert.Equal("ClientRateLimited", refused.ErrorCode);
        Assert.Equal(1, aws.Requests.Count("secretsmanager.GetSecretValue"));
    }
}

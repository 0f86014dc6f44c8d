using Amazon.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using SecretsCache.Hosting.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.Lambda;

/// <summary>The restore hook through the container's provider, with its bound from configuration (<c>SecretsCache:Snapshot:MaxAgeAfterRestore</c>).</summary>
public sealed class SnapshotRestoreTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private AwsEmulator Aws => emulator.Aws;

    [Fact]
    public async Task The_DI_registered_provider_takes_the_hook_with_its_bound_from_configuration()
    {
        Aws.CreateSecret("restore/host", "v1");
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:Aws:ServiceUrl"] = Aws.Endpoint.ToString(),
            ["SecretsCache:Aws:Region"] = Aws.Region,
            ["SecretsCache:DefaultTtl"] = "00:15:00",
            ["SecretsCache:Snapshot:MaxAgeAfterRestore"] = "00:00:30",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<TimeProvider>(clock);
        services.AddSecretsCache(o => o.Aws.Credentials = new BasicAWSCredentials(Aws.AccessKeyId, Aws.SecretAccessKey));
        await using var container = services.BuildServiceProvider();
        var secrets = container.GetRequiredService<ISecretProvider>();
        Assert.Equal("v1", (await secrets.GetAsync("restore/host")).GetString());
        Aws.PutSecretValue("restore/host", "v2");
        var calls = Aws.Requests.Count("secretsmanager.GetSecretValue");

        clock.Advance(TimeSpan.FromSeconds(20));
        secrets.OnSnapshotRestored(); // 20 s old: younger than the configured 30 s, kept
        Assert.Equal("v1", (await secrets.GetAsync("restore/host")).GetString());
        clock.Advance(TimeSpan.FromSeconds(20));
        secrets.OnSnapshotRestored(); // 40 s old: fetched again on first read
        Assert.Equal("v2", (await secrets.GetAsync("restore/host")).GetString());

        Assert.Equal(calls + 1, Aws.Requests.Count("secretsmanager.GetSecretValue"));
    }

    [Fact]
    public void A_negative_bound_in_configuration_fails_validation_by_name()
    {
        var options = new SecretsCacheOptions();
        options.Snapshot.MaxAgeAfterRestore = TimeSpan.FromSeconds(-1);

        Assert.Contains("Snapshot.MaxAgeAfterRestore must not be negative.", options.Validate());
    }
}

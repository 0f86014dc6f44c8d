using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>When a rotated value becomes visible: not before a refresh, invalidation or expiry, and then with its new version.</summary>
public sealed class RotationVisibilityTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const string GetParameter = "AmazonSSM.GetParameter";

    [Fact]
    public async Task A_new_AWSCURRENT_is_seen_after_RefreshAsync_and_not_before()
    {
        var name = SecretName("rotate");
        Aws.CreateSecret(name, "password-1");
        var provider = CreateProvider();
        var before = await provider.GetAsync(name);

        var newVersion = Aws.PutSecretValue(name, "password-2");
        var stillCached = await provider.GetAsync(name);
        var refreshed = await provider.RefreshAsync(name);

        Assert.Same(before, stillCached);
        Assert.Equal("password-2", refreshed.GetString());
        Assert.Equal(newVersion, refreshed.VersionId);
        Assert.NotEqual(before.VersionId, refreshed.VersionId);
        Assert.Same(refreshed, await provider.GetAsync(name));
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));

        var previous = await provider.GetAsync($"{name}?stage=AWSPREVIOUS");
        Assert.Equal("password-1", previous.GetString());
        Assert.Equal(before.VersionId, previous.VersionId);
    }

    [Fact]
    public async Task A_rotation_that_moves_AWSCURRENT_to_a_pending_version_is_seen_after_ttl_expiry()
    {
        var name = SecretName("ttl");
        Aws.CreateSecret(name, "old-password");
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var provider = CreateProvider(o => o.DefaultTtl = TimeSpan.FromMinutes(1), clock);
        var before = await provider.GetAsync(name);

        // The rotation Lambda's steps: createSecret (AWSPENDING), then finishSecret moves AWSCURRENT.
        var pending = Aws.PutSecretValue(name, "new-password", null, "AWSPENDING");
        Assert.Same(before, await provider.GetAsync(name));
        Aws.UpdateSecretVersionStage(name, "AWSCURRENT", pending, before.VersionId);
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Same(before, await provider.GetAsync(name));
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));

        clock.Advance(TimeSpan.FromSeconds(2));
        var after = await provider.GetAsync(name);

        Assert.Equal("new-password", after.GetString());
        Assert.Equal(pending, after.VersionId);
        Assert.Contains("AWSCURRENT", after.VersionStages);
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task Invalidate_makes_the_next_read_fetch_the_rotated_value()
    {
        var name = SecretName("invalidate");
        Aws.CreateSecret(name, "a");
        var provider = CreateProvider();
        var before = await provider.GetAsync(name);

        Aws.PutSecretValue(name, "b");
        provider.Invalidate("sm:" + name);
        var after = await provider.GetAsync(name);

        Assert.Equal("b", after.GetString());
        Assert.NotEqual(before.VersionId, after.VersionId);

        Aws.PutSecretValue(name, "c");
        provider.InvalidateAll();
        Assert.Equal("c", await provider.GetStringAsync(name));
        Assert.Equal(3, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task Passthrough_and_parameter_rotations_are_seen_after_refresh_while_pinned_versions_stay()
    {
        var secret = SecretName("pt-rotate");
        Aws.CreateSecret(secret, "pt-1");
        var parameter = ParameterRoot() + "rotating";
        Aws.PutParameter(parameter, "p-1", "String");
        var provider = CreateProvider();
        var passthrough = "/aws/reference/secretsmanager/" + secret;
        var ptBefore = await provider.GetAsync(passthrough);
        var pBefore = await provider.GetAsync("ssm:" + parameter);
        var pinned = await provider.GetAsync($"ssm:{parameter}:1");

        var newVersion = Aws.PutSecretValue(secret, "pt-2");
        Aws.PutParameter(parameter, "p-2", "String");
        var ptAfter = await provider.RefreshAsync(passthrough);
        var pAfter = await provider.RefreshAsync("ssm:" + parameter);

        Assert.Equal("pt-2", ptAfter.GetString());
        Assert.Equal(newVersion, ptAfter.VersionId);
        Assert.NotEqual(ptBefore.VersionId, ptAfter.VersionId);
        Assert.Equal(("p-2", "2"), (pAfter.GetString(), pAfter.Version));
        Assert.Equal(("p-1", "1"), (pBefore.GetString(), pBefore.Version));
        Assert.Same(pinned, await provider.GetAsync($"ssm:{parameter}:1"));
        Assert.Equal(5, Aws.Requests.Count(GetParameter));
    }
}

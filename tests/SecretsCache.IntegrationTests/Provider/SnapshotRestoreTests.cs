using Amazon.Runtime;
using SecretsCache.Composition;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// <see cref="SecretProvider.OnSnapshotRestored"/> over real HTTP against the emulator, on a fake clock: what a first read after
/// a restore costs in AWS calls, and that the credentials are resolved again (counted where AWSSDK.Core generates them).
/// </summary>
public sealed class SnapshotRestoreTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";

    [Fact]
    public async Task After_the_hook_values_older_than_the_bound_cost_one_call_each_on_first_read_and_younger_ones_none()
    {
        var time = new FakeTimeProvider();
        var old = SecretName("restore-old");
        var young = SecretName("restore-young");
        Aws.CreateSecret(old, "old-1");
        Aws.CreateSecret(young, "young-1");
        var provider = CreateProvider(o =>
        {
            o.DefaultTtl = TimeSpan.FromMinutes(15);
            o.Snapshot.MaxAgeAfterRestore = TimeSpan.FromMinutes(1);
        }, time);
        Assert.Equal("old-1", await provider.GetStringAsync(old));
        time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal("young-1", await provider.GetStringAsync(young));
        time.Advance(TimeSpan.FromSeconds(20));
        Aws.PutSecretValue(old, "old-2");
        Aws.PutSecretValue(young, "young-2");
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));

        provider.OnSnapshotRestored();
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue)); // the hook sends nothing

        var firstReads = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => provider.GetStringAsync(old).AsTask()));
        Assert.All(firstReads, value => Assert.Equal("old-2", value));
        Assert.Equal(3, Aws.Requests.Count(GetSecretValue)); // one call for ten readers of the expired value
        Assert.Equal("young-1", await provider.GetStringAsync(young)); // 20 s old: kept, no call
        Assert.Equal(3, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task After_the_hook_the_next_request_resolves_the_credentials_again()
    {
        var name = SecretName("restore-credentials");
        Aws.CreateSecret(name, "v1");
        var credentials = new CountingRoleCredentials(Aws.AccessKeyId, Aws.SecretAccessKey);
        var provider = CreateProvider(o => o.Aws.Credentials = credentials);
        await provider.GetStringAsync(name);
        provider.Invalidate(name);
        await provider.GetStringAsync(name);
        Assert.Equal(1, credentials.Generated); // held and reused, as AWSSDK.Core's refreshing credentials are

        provider.OnSnapshotRestored();
        Assert.Equal(1, credentials.Generated); // resolved lazily, on the next request
        provider.Invalidate(name);
        Assert.Equal("v1", await provider.GetStringAsync(name));

        Assert.Equal(2, credentials.Generated);
        Assert.Equal(3, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task After_the_hook_credentials_from_the_default_chain_are_looked_up_again()
    {
        var name = SecretName("restore-chain");
        Aws.CreateSecret(name, "v1");
        var walks = 0;
        var options = Options();
        options.Aws.Credentials = null;
        var runtime = SecretsCacheRuntime.Create(options, null, null, null, null, defaultCredentials: () =>
        {
            Interlocked.Increment(ref walks);
            return ValueTask.FromResult<AWSCredentials>(new BasicAWSCredentials(Aws.AccessKeyId, Aws.SecretAccessKey));
        });
        var provider = Own(new SecretProvider(runtime));
        await provider.GetStringAsync(name);
        provider.Invalidate(name);
        await provider.GetStringAsync(name);
        Assert.Equal(1, walks);

        provider.OnSnapshotRestored();
        provider.Invalidate(name);
        await provider.GetStringAsync(name);

        Assert.Equal(2, walks);
    }

    /// <summary>Refreshing credentials, as Lambda's container credentials are, counting each time AWSSDK.Core asks for new ones.</summary>
    private sealed class CountingRoleCredentials(string accessKey, string secretKey) : RefreshingAWSCredentials
    {
        private int _generated;

        public int Generated => Volatile.Read(ref _generated);

        protected override CredentialsRefreshState GenerateNewCredentials()
        {
            Interlocked.Increment(ref _generated);
            return new CredentialsRefreshState(new ImmutableCredentials(accessKey, secretKey, null), DateTime.UtcNow.AddHours(1));
        }
    }
}

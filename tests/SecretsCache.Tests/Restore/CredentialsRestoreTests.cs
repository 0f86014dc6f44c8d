using Amazon.Runtime;
using SecretsCache.Aws.Protocol;

namespace SecretsCache.Tests.Restore;

/// <summary>After a snapshot restore the AWS credentials are resolved again: the default chain is walked again, and refreshing credentials fetch new ones.</summary>
public sealed class CredentialsRestoreTests
{
    [Fact]
    public async Task Credentials_from_the_default_chain_are_resolved_again_after_the_hook()
    {
        var chainWalks = 0;
        var role = new CountingRefreshingCredentials();
        var source = new AwsCredentialsSource(null, defaultChain: () =>
        {
            Interlocked.Increment(ref chainWalks);
            return ValueTask.FromResult<AWSCredentials>(role);
        });
        for (var i = 0; i < 3; i++)
        {
            await source.GetAsync();
        }

        Assert.Equal((1, 1), (chainWalks, role.Generated));

        source.ResolveAgain();
        var credentials = await source.GetAsync();
        await source.GetAsync();

        Assert.Equal((2, 2), (chainWalks, role.Generated));
        Assert.Equal("AKIDROLE2", credentials.AccessKey);
    }

    [Fact]
    public async Task Configured_refreshing_credentials_fetch_new_ones_after_the_hook()
    {
        var configured = new CountingRefreshingCredentials();
        var source = new AwsCredentialsSource(configured, defaultChain: () => throw new InvalidOperationException("The chain must not be walked when credentials are configured."));
        await source.GetAsync();
        await source.GetAsync();
        Assert.Equal(1, configured.Generated);

        source.ResolveAgain();
        await source.GetAsync();

        Assert.Equal(2, configured.Generated);
    }

    [Fact]
    public async Task Static_configured_credentials_are_kept()
    {
        var source = new AwsCredentialsSource(new BasicAWSCredentials("AKIDSTATIC", "secret"), defaultChain: () => throw new InvalidOperationException("The chain must not be walked when credentials are configured."));
        await source.GetAsync();

        source.ResolveAgain();

        Assert.Equal("AKIDSTATIC", (await source.GetAsync()).AccessKey);
    }

    /// <summary>AWSSDK.Core's refreshing credentials (as container, web-identity and assume-role credentials are), counting each time it generates new ones; valid for an hour.</summary>
    internal sealed class CountingRefreshingCredentials : RefreshingAWSCredentials
    {
        private int _generated;

        public int Generated => Volatile.Read(ref _generated);

        protected override CredentialsRefreshState GenerateNewCredentials()
        {
            var n = Interlocked.Increment(ref _generated);
            return new CredentialsRefreshState(new ImmutableCredentials($"AKIDROLE{n}", "role-secret", "role-token"), DateTime.UtcNow.AddHours(1));
        }
    }
}

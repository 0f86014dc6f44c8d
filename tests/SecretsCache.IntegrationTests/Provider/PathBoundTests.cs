using SecretsCache.Aws.Protocol;
using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.Sources;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>A path listing that does not end within its page bound fails, typed, instead of being cut short.</summary>
public sealed class PathBoundTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    [Fact]
    public async Task A_listing_longer_than_the_page_bound_fails_as_PathTooLarge_and_one_within_it_is_whole()
    {
        var root = ParameterRoot();
        for (var i = 0; i < 25; i++)
        {
            Aws.PutParameter($"{root}p{i:00}", $"v{i}");
        }

        using var client = new AwsJsonClient(Options(), null, TimeProvider.System);
        var reader = new ParameterStoreReader(client, TimeProvider.System, namesInErrors: false);

        // 25 parameters at 10 a page take 3 pages.
        var error = await Assert.ThrowsAsync<SecretServiceUnavailableException>(() => reader.FetchPathAsync(root, recursive: true, CancellationToken.None, maxPages: 2));
        Assert.Equal(ParameterStoreReader.PathTooLarge, error.ErrorCode);
        Assert.Contains("2 pages", error.Message, StringComparison.Ordinal);

        var whole = await reader.FetchPathAsync(root, recursive: true, CancellationToken.None, maxPages: 3);
        Assert.Equal(25, whole.Count);
    }
}

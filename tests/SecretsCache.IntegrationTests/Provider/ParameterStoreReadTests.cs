using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>GetParameter with versions, labels and ARNs, and GetParametersByPath through GetPathAsync, over real HTTP.</summary>
public sealed class ParameterStoreReadTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string GetParameter = "AmazonSSM.GetParameter";
    private const string GetParametersByPath = "AmazonSSM.GetParametersByPath";

    [Fact]
    public async Task Parameters_are_read_latest_by_version_number_and_by_label()
    {
        var name = ParameterRoot() + "url";
        Aws.PutParameter(name, "one", "String");
        Aws.PutParameter(name, "two", "String");
        Aws.PutParameter(name, "three", "String");
        Aws.LabelParameterVersion(name, 2, "stable");
        var provider = CreateProvider();

        var latest = await provider.GetAsync("ssm:" + name);
        var third = await provider.GetAsync($"ssm:{name}:3");
        var first = await provider.GetAsync($"ssm:{name}:1");
        var stable = await provider.GetAsync($"ssm:{name}:stable");

        Assert.Equal(("three", 3L), (latest.GetString(), latest.ParameterVersion!.Value));
        Assert.Equal(("three", 3L), (third.GetString(), third.ParameterVersion!.Value));
        Assert.Equal(("one", 1L), (first.GetString(), first.ParameterVersion!.Value));
        Assert.Equal(("two", 2L), (stable.GetString(), stable.ParameterVersion!.Value));
        Assert.Equal(name, latest.Name);
        Assert.Equal("3", latest.Version);
        Assert.Null(latest.VersionId);
        Assert.Equal(4, Aws.Requests.Count(GetParameter));

        await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync($"ssm:{name}:9").AsTask());
        await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync($"ssm:{name}:missing-label").AsTask());
        Assert.Equal(6, Aws.Requests.Count(GetParameter));
    }

    [Fact]
    public async Task SecureString_parameters_are_decrypted()
    {
        var name = ParameterRoot() + "key";
        Aws.PutParameter(name, "plain-after-decryption");
        var provider = CreateProvider();

        Assert.Equal("plain-after-decryption", await provider.GetStringAsync("ssm:" + name));
    }

    [Fact]
    public async Task Full_parameter_arn_reads_the_parameter_with_and_without_a_selector()
    {
        var name = ParameterRoot() + "arn";
        Aws.PutParameter(name, "first", "String");
        Aws.PutParameter(name, "second", "String");
        var arn = $"arn:aws:ssm:{Aws.Region}:{Aws.AccountId}:parameter{name}";
        var provider = CreateProvider();

        var latest = await provider.GetAsync(arn);
        var first = await provider.GetAsync(arn + ":1");

        Assert.Equal("second", latest.GetString());
        Assert.Equal(arn, latest.Arn);
        Assert.Equal(name, latest.Name);
        Assert.Equal("first", first.GetString());
        Assert.Equal(1, first.ParameterVersion);
        Assert.Equal(2, Aws.Requests.Count(GetParameter));
    }

    [Fact]
    public async Task GetPathAsync_pages_through_every_parameter_and_primes_the_cache()
    {
        var root = ParameterRoot();
        var names = Enumerable.Range(0, 23).Select(i => $"{root}p{i:00}").ToList();
        foreach (var name in names)
        {
            Aws.PutParameter(name, "value-of-" + name[root.Length..], "String");
        }

        var provider = CreateProvider();

        var all = await provider.GetPathAsync(root);

        Assert.Equal(names.Order(StringComparer.Ordinal), all.Keys.Order(StringComparer.Ordinal));
        Assert.All(all, pair => Assert.Equal("value-of-" + pair.Key[root.Length..], pair.Value.GetString()));
        Assert.Equal(3, Aws.Requests.Count(GetParametersByPath)); // 10 + 10 + 3

        foreach (var name in names)
        {
            Assert.Same(all[name], await provider.GetAsync("ssm:" + name));
        }

        Assert.Equal(3, Aws.Requests.Total);
    }

    [Fact]
    public async Task GetPathAsync_recursive_reads_the_whole_tree_and_non_recursive_only_direct_children()
    {
        var root = ParameterRoot();
        Aws.PutParameter(root + "a", "a", "String");
        Aws.PutParameter(root + "b", "b");
        Aws.PutParameter(root + "nested/c", "c", "String");
        Aws.PutParameter(root + "nested/deeper/d", "d", "String");
        var provider = CreateProvider();

        var recursive = await provider.GetPathAsync(root, recursive: true);
        var direct = await provider.GetPathAsync("ssm:" + root, recursive: false);
        var nested = await provider.GetPathAsync(root + "nested", recursive: false);

        Assert.Equal([root + "a", root + "b", root + "nested/c", root + "nested/deeper/d"], recursive.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([root + "a", root + "b"], direct.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([root + "nested/c"], nested.Keys);
        Assert.Equal("b", recursive[root + "b"].GetString());
        Assert.Equal(3, Aws.Requests.Count(GetParametersByPath));

        // A listing is fetched on every call, so it sees a parameter added since.
        Aws.PutParameter(root + "e", "e", "String");
        Assert.Equal(3, (await provider.GetPathAsync(root, recursive: false)).Count);
        Assert.Equal(4, Aws.Requests.Count(GetParametersByPath));
        Assert.Equal(0, Aws.Requests.Count(GetParameter));
    }

    [Fact]
    public async Task Concurrent_GetPathAsync_calls_for_one_path_share_one_listing()
    {
        var root = ParameterRoot();
        for (var i = 0; i < 12; i++)
        {
            Aws.PutParameter($"{root}k{i:00}", "v" + i, "String");
        }

        Aws.Faults.Latency = TimeSpan.FromMilliseconds(100); // keeps the listing in flight while the other callers join it
        var provider = CreateProvider();

        var listings = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => provider.GetPathAsync(root)));

        Assert.All(listings, l => Assert.Same(listings[0], l));
        Assert.Equal(12, listings[0].Count);
        Assert.Equal(2, Aws.Requests.Count(GetParametersByPath));
    }

    [Fact]
    public async Task GetPathAsync_of_an_empty_path_is_empty()
    {
        var provider = CreateProvider();

        Assert.Empty(await provider.GetPathAsync(ParameterRoot()));
        Assert.Equal(1, Aws.Requests.Count(GetParametersByPath));
    }
}

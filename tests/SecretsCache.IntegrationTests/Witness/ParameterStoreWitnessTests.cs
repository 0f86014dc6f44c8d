using System.Text.Json;
using Amazon.SimpleSystemsManagement;
using Amazon.SimpleSystemsManagement.Model;
using SecretsCache.IntegrationTests.Provider.Support;
using SecretsCache.IntegrationTests.Witness.Support;

namespace SecretsCache.IntegrationTests.Witness;

/// <summary>
/// AWS's own SSM client reads every Parameter Store fixture the library reads, from the same emulator: the emulator answers
/// as the SDK expects, and the SDK and the library's <see cref="Secret"/> agree on name, value, version and ARN.
/// </summary>
public sealed class ParameterStoreWitnessTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string Passthrough = "/aws/reference/secretsmanager/";

    private AmazonSimpleSystemsManagementClient? _sdk;

    private AmazonSimpleSystemsManagementClient Sdk => _sdk ??= Own(SsmWitness.Create(Aws));

    [Theory]
    [InlineData("String", "plain value")]
    [InlineData("StringList", "a,b,c")]
    [InlineData("SecureString", "s3cr3t {\"k\":1} +&<")]
    public async Task GetParameter_latest_version_reads_the_same(string type, string value)
    {
        var name = ParameterRoot() + "p";
        Aws.PutParameter(name, "older", type);
        Aws.PutParameter(name, value, type);

        var sdk = (await Sdk.GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true })).Parameter;
        var library = await CreateProvider().GetAsync("ssm:" + name);

        AssertSame(sdk, library, type);
        Assert.Equal(value, sdk.Value);
        Assert.Equal(2, sdk.Version);
        Assert.Null(sdk.Selector);
        Assert.Equal("text", sdk.DataType);
        Assert.NotNull(sdk.LastModifiedDate);
    }

    [Fact]
    public async Task SecureString_without_decryption_is_ciphertext_to_the_sdk()
    {
        var name = ParameterRoot() + "secure";
        Aws.PutParameter(name, "the-plaintext", "SecureString");

        var encrypted = (await Sdk.GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = false })).Parameter;
        var decrypted = (await Sdk.GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true })).Parameter;

        Assert.Equal(ParameterType.SecureString, encrypted.Type);
        Assert.NotEqual("the-plaintext", encrypted.Value);
        Assert.True(Convert.TryFromBase64String(encrypted.Value, new byte[encrypted.Value.Length], out _), "The ciphertext is base64.");
        Assert.Equal("the-plaintext", decrypted.Value);
        Assert.Equal("the-plaintext", await CreateProvider().GetStringAsync("ssm:" + name));
    }

    [Theory]
    [InlineData("1", "one", 1)]
    [InlineData("3", "three", 3)]
    [InlineData("stable", "two", 2)]
    public async Task Selectors_version_and_label_read_the_same(string selector, string value, long version)
    {
        var name = ParameterRoot() + "selected";
        Aws.PutParameter(name, "one", "String");
        Aws.PutParameter(name, "two", "String");
        Aws.PutParameter(name, "three", "String");
        Aws.LabelParameterVersion(name, 2, "stable");
        var arn = $"arn:aws:ssm:{Aws.Region}:{Aws.AccountId}:parameter{name}";
        var provider = CreateProvider();

        var sdk = (await Sdk.GetParameterAsync(new GetParameterRequest { Name = $"{name}:{selector}", WithDecryption = true })).Parameter;
        var sdkByArn = (await Sdk.GetParameterAsync(new GetParameterRequest { Name = $"{arn}:{selector}", WithDecryption = true })).Parameter;
        var library = await provider.GetAsync($"ssm:{name}:{selector}");
        var libraryByArn = await provider.GetAsync($"{arn}:{selector}");

        AssertSame(sdk, library, "String");
        AssertSame(sdkByArn, libraryByArn, "String");
        Assert.Equal((value, version), (sdk.Value, sdk.Version!.Value));
        Assert.Equal(":" + selector, sdk.Selector);
        Assert.Equal(arn, sdk.ARN);
    }

    [Fact]
    public async Task Missing_parameter_version_and_label_are_typed_errors_to_both()
    {
        var name = ParameterRoot() + "only";
        Aws.PutParameter(name, "v", "String");
        var provider = CreateProvider();

        await Assert.ThrowsAsync<ParameterNotFoundException>(() => Sdk.GetParameterAsync(new GetParameterRequest { Name = name + "-missing", WithDecryption = true }));
        await Assert.ThrowsAsync<ParameterVersionNotFoundException>(() => Sdk.GetParameterAsync(new GetParameterRequest { Name = name + ":9", WithDecryption = true }));
        await Assert.ThrowsAsync<ParameterVersionNotFoundException>(() => Sdk.GetParameterAsync(new GetParameterRequest { Name = name + ":nolabel", WithDecryption = true }));
        await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync($"ssm:{name}-missing").AsTask());
        await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync($"ssm:{name}:9").AsTask());
        await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync($"ssm:{name}:nolabel").AsTask());
    }

    [Fact]
    public async Task GetParameters_batch_reads_the_same_and_reports_the_same_invalid_names()
    {
        var root = ParameterRoot();
        Aws.PutParameter(root + "plain", "p1", "String");
        Aws.PutParameter(root + "plain", "p2", "String");
        Aws.LabelParameterVersion(root + "plain", 1, "first");
        Aws.PutParameter(root + "list", "x,y", "StringList");
        Aws.PutParameter(root + "secure", "hidden", "SecureString");
        var secret = SecretName("witness");
        Aws.CreateSecret(secret, "sm-old");
        Aws.PutSecretValue(secret, "sm-new");
        string[] names = [
            root + "plain", root + "plain:1", root + "plain:first", root + "list", root + "secure",
            Passthrough + secret, $"{Passthrough}{secret}:AWSPREVIOUS", root + "missing"];
        var provider = CreateProvider();

        var sdk = await Sdk.GetParametersAsync(new GetParametersRequest { Names = [.. names], WithDecryption = true });
        var warmUp = await provider.WarmUpAsync(names.Select(n => n.StartsWith(Passthrough, StringComparison.Ordinal) ? n : "ssm:" + n));

        Assert.Equal([root + "missing"], sdk.InvalidParameters);
        Assert.Equal(names.Length - 1, sdk.Parameters.Count);
        Assert.Equal(names.Length - 1, warmUp.Loaded);
        Assert.Equal(["ssm:" + root + "missing"], warmUp.Failures.Keys);
        Assert.IsType<SecretNotFoundException>(warmUp.Failures.Values.Single());
        Assert.Equal(2, Aws.Requests.Count("AmazonSSM.GetParameters"));

        foreach (var parameter in sdk.Parameters)
        {
            var requested = parameter.Name + parameter.Selector;
            var library = await provider.GetAsync(requested.StartsWith(Passthrough, StringComparison.Ordinal) ? requested : "ssm:" + requested);
            Assert.Equal(parameter.Value, library.GetString());
            Assert.Equal(parameter.Name, library.Name);
            Assert.Equal(parameter.ARN, library.Arn);
        }

        Assert.Equal(0, Aws.Requests.Count("AmazonSSM.GetParameter"));
        Assert.Equal("p1", sdk.Parameters.Single(p => p.Selector == ":first").Value);
        Assert.Equal("sm-old", sdk.Parameters.Single(p => p.Selector == ":AWSPREVIOUS").Value);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task GetParametersByPath_pages_with_NextToken_and_lists_the_same(bool recursive)
    {
        var root = ParameterRoot();
        for (var i = 0; i < 11; i++)
        {
            Aws.PutParameter($"{root}p{i:00}", "value-" + i, i % 3 == 0 ? "SecureString" : "String");
        }

        Aws.PutParameter(root + "nested/deep", "deep-value", "String");
        Aws.PutParameter(root + "nested/deeper/deepest", "deepest-value", "SecureString");
        var expected = recursive ? 13 : 11;

        // Pages of at most 4, following NextToken by hand (bounded).
        var pages = new List<List<Parameter>>();
        string? nextToken = null;
        do
        {
            var page = await Sdk.GetParametersByPathAsync(new GetParametersByPathRequest
            {
                Path = root, Recursive = recursive, WithDecryption = true, MaxResults = 4, NextToken = nextToken,
            });
            pages.Add(page.Parameters ?? []);
            nextToken = page.NextToken;
        }
        while (nextToken is not null && pages.Count < 20);

        var paged = pages.SelectMany(p => p).ToList();
        var paginated = new List<Parameter>();
        await foreach (var response in Sdk.Paginators.GetParametersByPath(new GetParametersByPathRequest { Path = root, Recursive = recursive, WithDecryption = true }).Responses)
        {
            paginated.AddRange(response.Parameters ?? []);
        }

        var library = await CreateProvider().GetPathAsync(root, recursive);

        Assert.Null(nextToken);
        Assert.Equal((expected + 3) / 4, pages.Count);
        Assert.All(pages, p => Assert.InRange(p.Count, 1, 4));
        Assert.Equal(expected, paged.Count);
        Assert.Equal(paged.Select(p => p.Name), paged.Select(p => p.Name).Distinct());
        Assert.Equal(paged.Select(p => (p.Name, p.Value, p.Version)), paginated.Select(p => (p.Name, p.Value, p.Version)));
        Assert.Equal(paged.Select(p => p.Name).Order(StringComparer.Ordinal), library.Keys.Order(StringComparer.Ordinal));
        foreach (var parameter in paged)
        {
            AssertSame(parameter, library[parameter.Name], parameter.Type.Value);
        }

        Assert.Equal("value-3", paged.Single(p => p.Name == root + "p03").Value);
        Assert.Equal(ParameterType.SecureString, paged.Single(p => p.Name == root + "p03").Type);
        Assert.Equal(recursive, paged.Any(p => p.Name == root + "nested/deeper/deepest" && p.Value == "deepest-value"));
    }

    [Theory]
    [InlineData(null, "third")]
    [InlineData("AWSCURRENT", "third")]
    [InlineData("AWSPREVIOUS", "second")]
    [InlineData("id-of-second", "second")]
    public async Task Passthrough_with_and_without_a_selector_reads_the_same(string? selector, string value)
    {
        var secret = SecretName("pt-witness");
        var arn = Aws.CreateSecret(secret);
        Aws.PutSecretValue(secret, "first");
        var secondId = Aws.PutSecretValue(secret, "second");
        Aws.PutSecretValue(secret, "third");
        selector = selector == "id-of-second" ? secondId : selector;
        var name = selector is null ? Passthrough + secret : $"{Passthrough}{secret}:{selector}";

        var sdk = (await Sdk.GetParameterAsync(new GetParameterRequest { Name = name, WithDecryption = true })).Parameter;
        var library = await CreateProvider().GetAsync(name);

        Assert.Equal(value, sdk.Value);
        Assert.Equal(sdk.Value, library.GetString());
        Assert.Equal(ParameterType.SecureString, sdk.Type);
        Assert.Equal(0, sdk.Version);
        Assert.Null(library.ParameterVersion);
        Assert.Equal(Passthrough + secret, sdk.Name);
        Assert.Equal(sdk.Name, library.Name);
        Assert.Equal(arn, sdk.ARN);
        Assert.Equal(sdk.ARN, library.Arn);
        Assert.Equal(selector is null ? null : ":" + selector, sdk.Selector);

        // SourceResult is the secret's DescribeSecret document: the library takes the version it read from there.
        using var source = JsonDocument.Parse(sdk.SourceResult);
        var stages = source.RootElement.GetProperty("VersionIdsToStages").GetProperty(library.VersionId!);
        Assert.Equal(library.VersionStages, stages.EnumerateArray().Select(s => s.GetString()!));
        Assert.Contains(value == "third" ? "AWSCURRENT" : "AWSPREVIOUS", library.VersionStages);
        Assert.Equal(value == "second", library.VersionId == secondId);
    }

    [Fact]
    public async Task Passthrough_needs_decryption_and_an_existing_secret()
    {
        var secret = SecretName("pt-rules");
        Aws.CreateSecret(secret, "v");

        var undecrypted = await Assert.ThrowsAnyAsync<AmazonSimpleSystemsManagementException>(
            () => Sdk.GetParameterAsync(new GetParameterRequest { Name = Passthrough + secret, WithDecryption = false }));
        await Assert.ThrowsAsync<ParameterNotFoundException>(
            () => Sdk.GetParameterAsync(new GetParameterRequest { Name = Passthrough + secret + "-missing", WithDecryption = true }));
        await Assert.ThrowsAsync<ParameterVersionNotFoundException>(
            () => Sdk.GetParameterAsync(new GetParameterRequest { Name = Passthrough + secret + ":AWSPENDING", WithDecryption = true }));

        Assert.Equal("ValidationException", undecrypted.ErrorCode);
        Assert.Contains("WithDecryption", undecrypted.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SecretNotFoundException>(() => CreateProvider().GetAsync(Passthrough + secret + "-missing").AsTask());
    }

    private static void AssertSame(Parameter sdk, Secret library, string type)
    {
        Assert.Equal(type, sdk.Type.Value);
        Assert.Equal(sdk.Name, library.Name);
        Assert.Equal(sdk.Value, library.GetString());
        Assert.Equal(sdk.Version, library.ParameterVersion);
        Assert.Equal(sdk.ARN, library.Arn);
    }
}

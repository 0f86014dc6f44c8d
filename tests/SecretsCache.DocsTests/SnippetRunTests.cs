using SecretsCache.Testing;

namespace SecretsCache.DocsTests;

/// <summary>The documentation's key snippets, run as written against the emulator.</summary>
public sealed class SnippetRunTests
{
    [Fact]
    public async Task The_READMEs_first_example_reads_every_kind_of_value()
    {
        await using var aws = await AwsEmulator.StartAsync(new AwsEmulatorOptions { Region = "eu-west-1" });
        aws.PutParameter("/app/prod/api-key", "k-123");
        aws.CreateSecret("app/db-creds", """{"username":"app","password":"p"}""");
        aws.CreateSecret("app/tls-cert", secretBinary: [1, 2, 3]);

        // The snippet builds its own provider from the environment, as an application would: point the environment at the emulator.
        using (new Environment()
            .Set("AWS_ENDPOINT_URL", aws.Endpoint.ToString())
            .Set("AWS_ACCESS_KEY_ID", aws.AccessKeyId)
            .Set("AWS_SECRET_ACCESS_KEY", aws.SecretAccessKey)
            .Set("AWS_SESSION_TOKEN", null)
            .Set("AWS_PROFILE", null))
        {
            await Docs.Readme.Snippets.UseIt();
        }

        Assert.Equal(1, aws.Requests.Count("AmazonSSM.GetParameter"));
        // app/db-creds, app/tls-cert and RefreshAsync; the warm-up found both references cached.
        Assert.Equal(3, aws.Requests.Count("secretsmanager.GetSecretValue"));
        Assert.Equal(0, aws.Requests.Count("secretsmanager.BatchGetSecretValue"));
        Assert.Equal(1, aws.Requests.Count("AmazonSSM.GetParametersByPath"));
    }

    [Fact]
    public Task The_READMEs_emulator_example_runs() => Docs.Readme.Snippets.Emulator();

    [Fact]
    public Task The_rotation_guides_emulator_example_runs() => Docs.DocsRotation.Snippets.EmulatorRotation();

    [Fact]
    public Task The_testing_packages_readme_example_runs() => Docs.SrcSecretscacheTestingReadme.Snippets.TestingReadme();

    [Fact]
    public Task The_testing_packages_regions_example_runs() => Docs.SrcSecretscacheTestingReadme.Snippets.TestingRegions();

    private sealed class Environment : IDisposable
    {
        private readonly Dictionary<string, string?> _saved = [];

        public Environment Set(string name, string? value)
        {
            _saved.TryAdd(name, System.Environment.GetEnvironmentVariable(name));
            System.Environment.SetEnvironmentVariable(name, value);
            return this;
        }

        public void Dispose()
        {
            foreach (var (name, value) in _saved)
            {
                System.Environment.SetEnvironmentVariable(name, value);
            }
        }
    }
}

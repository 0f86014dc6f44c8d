using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;
using SecretsCache.Hosting.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.DependencyInjection;

/// <summary>The conventions a .NET team's AWS app already follows: the <c>AWS</c> section, profiles, start-up checks, named providers, quiet HTTP logs.</summary>
public sealed class AwsConventionsTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private AwsEmulator Aws => emulator.Aws;

    [Fact]
    public async Task The_AWS_sections_profile_gives_credentials_and_region()
    {
        Aws.CreateSecret("conv/profile", "from-profile");
        using var files = new TemporaryDirectory();
        var credentials = files.Write("credentials", $"""
            [team]
            aws_access_key_id = {Aws.AccessKeyId}
            aws_secret_access_key = {Aws.SecretAccessKey}
            region = {Aws.Region}
            """);
        var services = Services(new()
        {
            ["AWS:Profile"] = "team",
            ["AWS:ProfilesLocation"] = credentials,
            ["SecretsCache:Aws:ServiceUrl"] = Aws.Endpoint.ToString(),
        });
        services.AddSecretsCache();
        await using var container = services.BuildServiceProvider();

        var options = container.GetRequiredService<IOptions<SecretsCacheOptions>>().Value;
        Assert.Equal("team", options.Aws.Profile);
        Assert.Null(options.Aws.Region); // not in configuration: the provider takes it from the profile
        Assert.Null(options.Aws.Credentials);
        var secret = await container.GetRequiredService<ISecretProvider>().GetAsync("conv/profile"); // the emulator checks the signature

        Assert.Equal("from-profile", secret.GetString());
    }

    [Fact]
    public void A_profile_under_SecretsCache_Aws_is_an_option_and_the_SecretsCache_section_wins_over_AWS()
    {
        var services = Services(new()
        {
            ["AWS:Region"] = "us-west-2",
            ["AWS:Profile"] = "shared",
            ["SecretsCache:Aws:Region"] = "eu-west-1",
            ["SecretsCache:Aws:Profile"] = "cache",
        });
        services.AddSecretsCache();
        using var container = services.BuildServiceProvider();

        var options = container.GetRequiredService<IOptions<SecretsCacheOptions>>().Value;

        Assert.Equal("eu-west-1", options.Aws.Region);
        Assert.Equal("cache", options.Aws.Profile);
    }

    [Fact]
    public void The_AWS_section_fills_what_the_SecretsCache_section_leaves_unset()
    {
        var services = Services(new() { ["AWS:Region"] = "us-west-2", ["SecretsCache:DefaultTtl"] = "00:02:00" });
        services.AddSecretsCache();
        using var container = services.BuildServiceProvider();

        Assert.Equal("us-west-2", container.GetRequiredService<IOptions<SecretsCacheOptions>>().Value.Aws.Region);
    }

    [Fact]
    public async Task A_host_without_a_region_fails_at_start_not_on_the_first_read()
    {
        using var environment = EnvironmentWithoutRegion();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSecretsCache();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("No AWS region", ex.Message);
    }

    [Fact]
    public void A_named_provider_inherits_the_default_section_then_applies_its_own()
    {
        var services = Services(new()
        {
            ["SecretsCache:Aws:ServiceUrl"] = "http://127.0.0.1:4566/",
            ["SecretsCache:DefaultTtl"] = "00:02:00",
            ["SecretsCache:eu:Aws:Region"] = "eu-west-1",
            ["SecretsCache:eu:DefaultTtl"] = "00:03:00",
        });
        services.AddSecretsCache(o => o.Aws.Region = "us-east-1");
        services.AddSecretsCache("eu");
        using var container = services.BuildServiceProvider();

        var monitor = container.GetRequiredService<IOptionsMonitor<SecretsCacheOptions>>();
        var eu = monitor.Get("eu");
        var primary = monitor.CurrentValue;

        Assert.Equal("http://127.0.0.1:4566/", eu.Aws.ServiceUrl); // inherited: it used to go to real AWS
        Assert.Equal("eu-west-1", eu.Aws.Region);
        Assert.Equal(TimeSpan.FromMinutes(3), eu.DefaultTtl);
        Assert.Equal(TimeSpan.FromMinutes(2), primary.DefaultTtl); // the named section is not the default's
        Assert.Equal("us-east-1", primary.Aws.Region);
    }

    [Fact]
    public void A_misspelt_section_is_reported_now_that_named_sections_are_known()
    {
        var services = Services(new() { ["SecretsCache:Retyr:MaxRetryAttempts"] = "2", ["SecretsCache:eu:MaxEntries"] = "5" });
        services.AddSecretsCache();
        services.AddSecretsCache("eu");
        using var container = services.BuildServiceProvider();

        var ex = Assert.Throws<SecretsConfigurationException>(() => container.GetRequiredService<IOptions<SecretsCacheOptions>>().Value);

        Assert.Contains("'SecretsCache:Retyr:MaxRetryAttempts' is not a SecretsCache option", ex.Message);
        Assert.DoesNotContain("SecretsCache:eu", ex.Message);
    }

    [Fact]
    public async Task The_library_s_http_client_writes_no_log_lines_by_default()
    {
        Aws.CreateSecret("conv/quiet", "v");
        var logs = new FakeLogCollector();
        var services = Services([]);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));
        services.AddSecretsCache(o => o.UseEmulator(Aws));
        await using var container = services.BuildServiceProvider();

        await container.GetRequiredService<ISecretProvider>().GetAsync("conv/quiet");

        Assert.DoesNotContain(logs.GetSnapshot(), r => r.Category?.StartsWith("System.Net.Http.HttpClient", StringComparison.Ordinal) == true);
        Assert.Equal(1, Aws.Requests.Count("secretsmanager.GetSecretValue"));
    }

    [Fact]
    public async Task Http_logging_comes_back_with_AddDefaultLogger()
    {
        Aws.CreateSecret("conv/loud", "v");
        var logs = new FakeLogCollector();
        var services = Services([]);
        services.AddLogging(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));
        services.AddSecretsCache(o => o.UseEmulator(Aws));
        services.AddHttpClient("SecretsCache").AddDefaultLogger();
        await using var container = services.BuildServiceProvider();

        await container.GetRequiredService<ISecretProvider>().GetAsync("conv/loud");

        Assert.Contains(logs.GetSnapshot(), r => r.Category == "System.Net.Http.HttpClient.SecretsCache.LogicalHandler");
    }

    private static ServiceCollection Services(Dictionary<string, string?> configuration)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(configuration).Build());
        return services;
    }

    private static IDisposable EnvironmentWithoutRegion()
    {
        var saved = new Dictionary<string, string?>();
        var missing = Path.Combine(Path.GetTempPath(), "secretscache-missing-" + Guid.NewGuid().ToString("N"));
        foreach (var (name, value) in new Dictionary<string, string?>
        {
            ["AWS_REGION"] = null, ["AWS_DEFAULT_REGION"] = null, ["AWS_PROFILE"] = null,
            ["AWS_CONFIG_FILE"] = missing + "-config", ["AWS_SHARED_CREDENTIALS_FILE"] = missing + "-credentials",
            ["AWS_EC2_METADATA_DISABLED"] = "true",
        })
        {
            saved[name] = Environment.GetEnvironmentVariable(name);
            Environment.SetEnvironmentVariable(name, value);
        }

        return new Restore(saved);
    }

    private sealed class Restore(Dictionary<string, string?> saved) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (name, value) in saved)
            {
                Environment.SetEnvironmentVariable(name, value);
            }
        }
    }

    private sealed class TemporaryDirectory : IDisposable
    {
        private readonly string _path = Directory.CreateTempSubdirectory("secretscache-profile-").FullName;

        public string Write(string name, string content)
        {
            var file = Path.Combine(_path, name);
            File.WriteAllText(file, content);
            return file;
        }

        public void Dispose() => Directory.Delete(_path, recursive: true);
    }
}

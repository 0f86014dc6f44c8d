using Amazon.Runtime;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SecretsCache.Hosting.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.DependencyInjection;

public sealed class RegistrationTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private AwsEmulator Aws => emulator.Aws;

    [Fact]
    public async Task One_singleton_serves_both_service_types_and_reads_through_the_named_http_client_and_container_clock()
    {
        Aws.CreateSecret("di/one", "v1");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow); // real date: requests are signed with it
        var handler = new CountingHandler();
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(clock);
        services.AddSecretsCache(o => o.UseEmulator(Aws));
        services.AddHttpClient("SecretsCache").AddHttpMessageHandler(() => handler);
        await using var container = services.BuildServiceProvider();

        var provider = container.GetRequiredService<ISecretProvider>();
        Assert.Same(container.GetRequiredService<SecretProvider>(), provider);
        var secret = await provider.GetAsync("di/one");

        Assert.Equal("v1", secret.GetString());
        Assert.Equal(1, handler.Requests);
        Assert.Equal(clock.GetUtcNow(), secret.FetchedAt);
    }

    [Fact]
    public void Options_bind_from_the_SecretsCache_section_then_code_wins()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:DefaultTtl"] = "00:00:42",
            ["SecretsCache:Aws:Region"] = "eu-central-1",
            ["SecretsCache:Retry:MaxRetryAttempts"] = "7",
        }).Build());
        services.AddSecretsCache(o => o.Retry.MaxRetryAttempts = 2);
        using var container = services.BuildServiceProvider();

        var options = container.GetRequiredService<IOptions<SecretsCacheOptions>>().Value;

        Assert.Equal(TimeSpan.FromSeconds(42), options.DefaultTtl);
        Assert.Equal("eu-central-1", options.Aws.Region);
        Assert.Equal(2, options.Retry.MaxRetryAttempts);
    }

    [Fact]
    public async Task Invalid_options_fail_the_host_at_start_with_every_message()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["SecretsCache:DefaultTtl"] = "-00:00:01" });
        builder.Services.AddSecretsCache(o => o.TtlJitter = 0.9);
        builder.Services.AddSecretsCache("eu", o => o.MaxEntries = 0);
        using var host = builder.Build();

        // The host reports every failing options instance at once.
        var ex = await Assert.ThrowsAsync<AggregateException>(() => host.StartAsync());

        var all = string.Join(" | ", ex.InnerExceptions.OfType<OptionsValidationException>().SelectMany(e => e.Failures));
        Assert.Contains("SecretsCache options: DefaultTtl must be positive.", all);
        Assert.Contains("SecretsCache options: TtlJitter must be between 0 and 0.5.", all);
        Assert.Contains("SecretsCache options 'eu': MaxEntries must be at least 1.", all);
        Assert.Equal(2, ex.InnerExceptions.Count);
    }

    [Fact]
    public async Task A_named_provider_fails_start_with_its_name_in_the_message()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSecretsCache("eu", o => o.MaxEntries = 0);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("SecretsCache options 'eu': MaxEntries must be at least 1.", ex.Message);
    }

    [Fact]
    public async Task A_malformed_configuration_value_fails_start_naming_the_key()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["SecretsCache:Aws:AttemptTimeout"] = "soon" });
        builder.Services.AddSecretsCache();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<SecretsConfigurationException>(() => host.StartAsync());

        Assert.Contains("'SecretsCache:Aws:AttemptTimeout' must be a TimeSpan", ex.Message);
    }

    [Fact]
    public async Task Named_providers_are_keyed_separate_singletons_with_their_own_options()
    {
        Aws.CreateSecret("di/named", "n1");
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SecretsCache:eu:DefaultTtl"] = "00:00:07",
            ["SecretsCache:us:DefaultTtl"] = "00:00:09",
        }).Build());
        services.AddSecretsCache("eu", o => o.UseEmulator(Aws));
        services.AddSecretsCache("us", o => o.UseEmulator(Aws));
        await using var container = services.BuildServiceProvider();

        var eu = container.GetRequiredKeyedService<ISecretProvider>("eu");
        var us = container.GetRequiredKeyedService<ISecretProvider>("us");
        var monitor = container.GetRequiredService<IOptionsMonitor<SecretsCacheOptions>>();

        Assert.NotSame(eu, us);
        Assert.Same(eu, container.GetRequiredKeyedService<ISecretProvider>("eu"));
        Assert.Same(eu, container.GetRequiredKeyedService<SecretProvider>("eu"));
        Assert.Null(container.GetService<ISecretProvider>());
        Assert.Equal(TimeSpan.FromSeconds(7), monitor.Get("eu").DefaultTtl);
        Assert.Equal(TimeSpan.FromSeconds(9), monitor.Get("us").DefaultTtl);
        Assert.Equal("n1", await eu.GetStringAsync("di/named"));
        Assert.Equal(1, ((SecretProvider)eu).Count);
        Assert.Equal(0, ((SecretProvider)us).Count);
    }

    [Fact]
    public void Credentials_set_in_code_are_kept()
    {
        var services = new ServiceCollection();
        var credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret");
        services.AddSecretsCache(o =>
        {
            o.Aws.Credentials = credentials;
            o.Aws.Region = "eu-west-1"; // start-up validation requires a region
        });
        using var container = services.BuildServiceProvider();

        Assert.Same(credentials, container.GetRequiredService<IOptions<SecretsCacheOptions>>().Value.Aws.Credentials);
    }

    private sealed class CountingHandler : DelegatingHandler
    {
        private int _requests;

        public int Requests => Volatile.Read(ref _requests);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _requests);
            return base.SendAsync(request, cancellationToken);
        }
    }
}

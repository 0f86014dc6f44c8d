using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecretsCache.Hosting.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.Configuration;

public sealed class ConfigurationProviderTests(EmulatorFixture emulator) : IClassFixture<EmulatorFixture>
{
    private AwsEmulator Aws => emulator.Aws;

    [Fact]
    public void Loads_json_secrets_plain_secrets_and_parameter_paths()
    {
        Aws.CreateSecret("cfg/db", """{"Username":"app","Hosts":["h1","h2"]}""");
        Aws.CreateSecret("cfg/token", "t-1");
        Aws.PutParameter("/cfg/prod/Db/Password", "p-1");
        Aws.PutParameter("/cfg/prod/Feature", "on", "String");

        using var root = (IDisposable)new ConfigurationBuilder()
            .AddSecretsCache(s =>
            {
                s.Provider = new SecretProvider(emulator.Options());
                s.AddSecret("cfg/db", key: "Db").AddSecret("cfg/token").AddParameterPath("/cfg/prod/").AddParameterPath("/cfg/prod", prefix: "Params");
            })
            .Build();
        var configuration = (IConfiguration)root;

        Assert.Equal("app", configuration["Db:Username"]);
        Assert.Equal("h2", configuration["Db:Hosts:1"]);
        Assert.Equal("t-1", configuration["cfg:token"]);
        Assert.Equal("p-1", configuration["Db:Password"]);
        Assert.Equal("on", configuration["Feature"]);
        Assert.Equal("p-1", configuration["Params:Db:Password"]);
    }

    [Fact]
    public void A_missing_required_secret_fails_naming_the_reference_and_an_optional_one_is_skipped()
    {
        Aws.CreateSecret("cfg/present", "do-not-print-me");
        var provider = new SecretProvider(emulator.Options());

        var optional = new ConfigurationBuilder()
            .AddSecretsCache(s => { s.Provider = provider; s.AddSecret("cfg/present", "Present").AddSecret("cfg/absent", "Absent", optional: true); })
            .Build();
        Assert.Null(optional["Absent"]);
        Assert.Equal("do-not-print-me", optional["Present"]);

        var ex = Assert.Throws<SecretsConfigurationException>(() => new ConfigurationBuilder()
            .AddSecretsCache(s => { s.Provider = provider; s.AddSecret("cfg/present", "Present").AddSecret("cfg/absent"); })
            .Build());
        Assert.Contains("'sm:cfg/absent' does not exist", ex.Message);
        Assert.DoesNotContain("do-not-print-me", ex.ToString());
    }

    [Fact]
    public void An_empty_required_path_fails_and_an_optional_one_is_skipped()
    {
        var provider = new SecretProvider(emulator.Options());

        var ex = Assert.Throws<SecretsConfigurationException>(() => new ConfigurationBuilder()
            .AddSecretsCache(s => { s.Provider = provider; s.AddParameterPath("/cfg/nothing-here/"); })
            .Build());
        Assert.Contains("'/cfg/nothing-here/' has no parameters", ex.Message);

        var configuration = new ConfigurationBuilder()
            .AddSecretsCache(s => { s.Provider = provider; s.AddParameterPath("/cfg/nothing-here/", optional: true); })
            .Build();
        Assert.Empty(configuration.AsEnumerable());
    }

    [Fact]
    public void The_provider_is_built_from_the_SecretsCache_section_of_the_configuration_so_far()
    {
        Aws.CreateSecret("cfg/built", "b-1");
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["SecretsCache:Aws:ServiceUrl"] = Aws.Endpoint.ToString(),
                ["SecretsCache:Aws:Region"] = Aws.Region,
            })
            .AddSecretsCache(s =>
            {
                s.AddSecret("cfg/built", "Built");
                s.ConfigureProvider = o => o.Aws.Credentials = new Amazon.Runtime.BasicAWSCredentials(Aws.AccessKeyId, Aws.SecretAccessKey);
            })
            .Build();

        Assert.Equal("b-1", configuration["Built"]);
    }

    [Fact]
    public async Task A_rotation_reaches_IOptionsMonitor_after_the_reload_timer_fires_and_unchanged_reads_do_not_reload()
    {
        Aws.CreateSecret("cfg/rotating", """{"Password":"first"}""");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var configuration = new ConfigurationBuilder()
            .AddSecretsCache(s =>
            {
                s.Provider = new SecretProvider(emulator.Options(o => { o.DefaultTtl = TimeSpan.FromSeconds(10); o.TtlJitter = 0; }), timeProvider: clock);
                s.TimeProvider = clock;
                s.ReloadInterval = TimeSpan.FromSeconds(15);
                s.AddSecret("cfg/rotating", "Db");
            })
            .Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration);
        services.Configure<DbOptions>(o => o.Password = configuration["Db:Password"]);
        services.AddSingleton<IOptionsChangeTokenSource<DbOptions>>(new ConfigurationChangeTokenSource<DbOptions>(configuration));
        await using var container = services.BuildServiceProvider();
        var monitor = container.GetRequiredService<IOptionsMonitor<DbOptions>>();
        var provider = (Hosting.Configuration.SecretsConfigurationProvider)((IConfigurationRoot)configuration).Providers.Single();
        var reloads = 0;
        using var _ = monitor.OnChange(_ => Interlocked.Increment(ref reloads));
        Assert.Equal("first", monitor.CurrentValue.Password);

        clock.Advance(TimeSpan.FromSeconds(15)); // a check with nothing rotated: cache expired and re-fetched, same value
        await Eventually.Until(() => provider.ReloadChecks >= 1, what: "first reload check");
        Assert.Equal(0, Volatile.Read(ref reloads));

        Aws.PutSecretValue("cfg/rotating", """{"Password":"second"}""");
        clock.Advance(TimeSpan.FromSeconds(15));
        await Eventually.Until(() => Task.FromResult(monitor.CurrentValue.Password), p => p == "second", what: "rotated password");

        // OptionsMonitor drops its cached value before it calls its listeners, so a read can see the new value first.
        await Eventually.Until(() => Volatile.Read(ref reloads) >= 1, what: "the reload's change callback");
        Assert.Equal(1, Volatile.Read(ref reloads));
        Assert.Null(provider.LastReloadError);
    }

    [Fact]
    public async Task A_failing_reload_keeps_the_last_good_values()
    {
        Aws.CreateSecret("cfg/flaky", "good");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var configuration = (IConfigurationRoot)new ConfigurationBuilder()
            .AddSecretsCache(s =>
            {
                s.Provider = new SecretProvider(emulator.Options(o => { o.DefaultTtl = TimeSpan.FromSeconds(10); o.MaxStaleness = TimeSpan.Zero; }), timeProvider: clock);
                s.TimeProvider = clock;
                s.ReloadInterval = TimeSpan.FromSeconds(15);
                s.AddSecret("cfg/flaky", "Flaky");
            })
            .Build();
        var provider = (Hosting.Configuration.SecretsConfigurationProvider)configuration.Providers.Single();

        Aws.DenyAccess("cfg/flaky");
        clock.Advance(TimeSpan.FromSeconds(15));
        await Eventually.Until(() => provider.ReloadChecks >= 1, what: "reload check");

        Assert.IsType<SecretsConfigurationException>(provider.LastReloadError);
        Assert.Equal("good", configuration["Flaky"]);
        Aws.RestoreAccess("cfg/flaky");
    }

    [Fact]
    public void Disposing_the_configuration_stops_the_timer()
    {
        Aws.CreateSecret("cfg/timer", "x");
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var root = (IConfigurationRoot)new ConfigurationBuilder()
            .AddSecretsCache(s => { s.Provider = new SecretProvider(emulator.Options()); s.TimeProvider = clock; s.AddSecret("cfg/timer", "T"); })
            .Build();
        Assert.Equal(1, clock.ActiveTimers);

        ((IDisposable)root).Dispose();

        Assert.Equal(0, clock.ActiveTimers);
    }

    public sealed class DbOptions
    {
        public string? Password { get; set; }
    }
}

using System.Net.Http.Json;
using System.Text.Json;
using AspNetApp;
using Microsoft.Extensions.DependencyInjection;
using SecretsCache.Hosting.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Hosting.Tests.Sample;

/// <summary>Each test gets its own app and emulator, so rotations and faults do not leak between tests.</summary>
public sealed class AspNetAppTests : IAsyncLifetime
{
    private readonly AspNetAppFactory _factory = new();
    private HttpClient _client = null!;

    private AwsEmulator Aws => _factory.Services.GetRequiredService<AwsEmulator>();

    public Task InitializeAsync()
    {
        _client = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task Configuration_holds_the_flattened_secret_and_the_mapped_parameter_path()
    {
        var db = await _client.GetFromJsonAsync<DbView>("/db");
        var parameters = await _client.GetFromJsonAsync<Dictionary<string, string>>("/parameters");

        Assert.Equal("app", db!.Username);
        Assert.Equal(["db-1", "db-2"], db.Hosts);
        Assert.True(db.HasPassword);
        Assert.Equal("5432", parameters!["Db:Port"]);
        Assert.Equal("true", parameters["FeatureFlags:NewCheckout"]);
    }

    [Fact]
    public async Task A_rotation_reaches_IOptionsMonitor_without_a_restart()
    {
        Assert.Equal("app", (await _client.GetFromJsonAsync<DbView>("/db"))!.Username);

        Aws.PutSecretValue("demo/db", """{"Username":"app-rotated","Password":"second-password","Hosts":["db-3"]}""");

        var db = await Eventually.Until(() => _client.GetFromJsonAsync<DbView>("/db")!, v => v!.Username == "app-rotated", what: "rotated /db");
        Assert.Equal(["db-3"], db!.Hosts);
    }

    [Fact]
    public async Task Health_goes_degraded_while_AWS_fails_after_expiry_and_recovers()
    {
        Assert.Equal("Healthy", (await Health()).Status);

        Aws.Faults.FailNext(100_000, 503);
        var degraded = await Eventually.Until(Health, h => h.Status == "Degraded", what: "degraded health");
        Assert.Contains("served stale", degraded.Checks["secretscache"].Description);
        Assert.Equal("app", (await _client.GetFromJsonAsync<DbView>("/db"))!.Username); // configuration keeps its last good values

        Aws.Faults.Clear();
        await Eventually.Until(Health, h => h.Status == "Healthy", what: "recovered health");
    }

    [Fact]
    public async Task The_named_provider_is_a_separate_keyed_singleton()
    {
        var versions = await _client.GetFromJsonAsync<VersionsView>("/versions");

        Assert.False(versions!.SameProvider);
        Assert.NotNull(versions.Default);
        Assert.Equal(versions.Default, versions.Eu);
        Assert.NotSame(_factory.Services.GetRequiredService<ISecretProvider>(), _factory.Services.GetRequiredKeyedService<ISecretProvider>("eu"));
    }

    [Fact]
    public async Task Direct_reads_use_the_registered_provider()
    {
        Assert.Equal(5, await _client.GetFromJsonAsync<int>("/api-key-length"));
        Assert.True(_factory.Services.GetRequiredService<SecretProvider>().Count >= 1);
    }

    private async Task<HealthView> Health()
    {
        using var response = await _client.GetAsync("/health");
        var body = await response.Content.ReadAsStringAsync();
        return JsonSerializer.Deserialize<HealthView>(body)!;
    }
}

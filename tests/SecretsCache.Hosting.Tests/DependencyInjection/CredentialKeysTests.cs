using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecretsCache.Hosting.DependencyInjection;

namespace SecretsCache.Hosting.Tests.DependencyInjection;

/// <summary>
/// Credentials never come from configuration: each of the six credential keys under <c>SecretsCache:Aws</c> is refused, in
/// any case, by every path that binds options (the binder, <c>AddSecretsCache</c> on services and on configuration), and the
/// refusal never echoes the value. A profile name is not a credential: <c>Aws:Profile</c> is an option (AwsConventionsTests).
/// </summary>
public sealed class CredentialKeysTests
{
    private const string Value = "AKIA-CONFIGURED-SECRET-7f3e";

    public static TheoryData<string> CredentialKeys => new()
    {
        "Credentials",
        "AccessKeyId",
        "AccessKey",
        "SecretAccessKey",
        "SecretKey",
        "SessionToken",
    };

    private static IConfigurationRoot Configuration(string key) =>
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [key] = Value, ["SecretsCache:Aws:Region"] = "eu-west-1" }).Build();

    private static void AssertRefused(SecretsConfigurationException error, string key)
    {
        Assert.Contains($"'{key}': credentials cannot come from configuration", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Value, error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(CredentialKeys))]
    public void The_binder_refuses_each_credential_key_in_any_case(string name)
    {
        foreach (var spelling in new[] { name, name.ToUpperInvariant(), name.ToLowerInvariant() })
        {
            var key = $"SecretsCache:Aws:{spelling}";
            var error = Assert.Throws<SecretsConfigurationException>(() =>
                SecretsCacheOptionsBinder.Bind(Configuration(key).GetSection("SecretsCache"), new SecretsCacheOptions()));

            AssertRefused(error, key);
        }
    }

    [Theory]
    [MemberData(nameof(CredentialKeys))]
    public void A_nested_credential_section_is_refused_too(string name)
    {
        var error = Assert.Throws<SecretsConfigurationException>(() =>
            SecretsCacheOptionsBinder.Bind(Configuration($"SecretsCache:Aws:{name}:Value").GetSection("SecretsCache"), new SecretsCacheOptions()));

        AssertRefused(error, $"SecretsCache:Aws:{name}");
    }

    [Theory]
    [MemberData(nameof(CredentialKeys))]
    public void AddSecretsCache_on_services_refuses_each_credential_key(string name)
    {
        var key = $"SecretsCache:Aws:{name}";
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(Configuration(key));
        services.AddSecretsCache();
        using var container = services.BuildServiceProvider();

        var error = Assert.Throws<SecretsConfigurationException>(() => container.GetRequiredService<IOptions<SecretsCacheOptions>>().Value);

        AssertRefused(error, key);
    }

    [Theory]
    [MemberData(nameof(CredentialKeys))]
    public void AddSecretsCache_on_configuration_refuses_each_credential_key(string name)
    {
        var key = $"SecretsCache:Aws:{name}";
        var builder = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { [key] = Value, ["SecretsCache:Aws:Region"] = "eu-west-1" })
            .AddSecretsCache(source => source.AddSecret("app/db"));

        var error = Assert.Throws<SecretsConfigurationException>(() => builder.Build());

        AssertRefused(error, key);
    }

    [Fact]
    public void Keys_that_only_look_alike_are_unknown_options_not_credentials()
    {
        var error = Assert.Throws<SecretsConfigurationException>(() =>
            SecretsCacheOptionsBinder.Bind(Configuration("SecretsCache:Aws:ProfileName").GetSection("SecretsCache"), new SecretsCacheOptions()));

        Assert.Contains("'SecretsCache:Aws:ProfileName' is not a SecretsCache option", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("credentials cannot come from configuration", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Value, error.Message, StringComparison.Ordinal);
    }
}

using System.Text.Json;
using SecretsCache.Hosting.Configuration;

namespace SecretsCache.Hosting.Tests.Configuration;

public sealed class ConfigurationKeysTests
{
    [Fact]
    public void Json_objects_and_arrays_flatten_to_colon_keys()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        ConfigurationKeys.Add(data, new Secret("app/db", """{"Db":{"Username":"u","Port":5432,"Ssl":true},"Hosts":["a","b"],"Empty":{},"Nothing":null}"""), key: null);

        Assert.Equal("u", data["Db:Username"]);
        Assert.Equal("5432", data["Db:Port"]);
        Assert.Equal("True", data["Db:Ssl"]);
        Assert.Equal("a", data["Hosts:0"]);
        Assert.Equal("b", data["Hosts:1"]);
        Assert.True(data.ContainsKey("Empty") && data["Empty"] is null);
        Assert.True(data.ContainsKey("Nothing") && data["Nothing"] is null);
        Assert.Equal(7, data.Count);
    }

    [Fact]
    public void Json_goes_under_the_prefix_key()
    {
        var data = new Dictionary<string, string?>();
        ConfigurationKeys.Add(data, new Secret("app/db", """{"Username":"u","Nested":{"A":[{"B":"x"}]}}"""), key: "Database");

        Assert.Equal("u", data["Database:Username"]);
        Assert.Equal("x", data["Database:Nested:A:0:B"]);
    }

    [Theory]
    [InlineData("plain-value")]
    [InlineData("{not json")]
    [InlineData("[\"an\",\"array\"]")]
    public void Other_strings_are_one_key_named_after_the_secret(string value)
    {
        var data = new Dictionary<string, string?>();
        ConfigurationKeys.Add(data, new Secret("app/api-key", value), key: null);

        Assert.Equal(value, Assert.Single(data, p => p.Key == "app:api-key").Value);
    }

    [Fact]
    public void A_plain_string_with_a_key_uses_that_key()
    {
        var data = new Dictionary<string, string?>();
        ConfigurationKeys.Add(data, new Secret("/app/prod/api-key", "v"), key: "Api:Key");

        Assert.Equal("v", Assert.Single(data).Value);
        Assert.Equal("Api:Key", Assert.Single(data).Key);
    }

    [Theory]
    [InlineData("/app/prod/Db/Password", "/app/prod/", "Db:Password")]
    [InlineData("/app/prod/ApiKey", "/app/prod/", "ApiKey")]
    [InlineData("/app/prod/a/b/c", "/app/", "prod:a:b:c")]
    public void Parameter_names_lose_the_path_and_slashes_become_colons(string name, string path, string key)
    {
        Assert.Equal(key, ConfigurationKeys.FromParameterName(name, path));
    }

    [Fact]
    public void Binary_secrets_are_base64()
    {
        var data = new Dictionary<string, string?>();
        ConfigurationKeys.Add(data, new Secret("cert", new byte[] { 1, 2, 3 }), key: "Cert");

        Assert.Equal(Convert.ToBase64String([1, 2, 3]), data["Cert"]);
    }

    [Fact]
    public void Flatten_matches_what_the_json_configuration_provider_would_produce_for_numbers()
    {
        var data = new Dictionary<string, string?>();
        using var document = JsonDocument.Parse("""{"A":1.50,"B":-3}""");
        ConfigurationKeys.Flatten(data, document.RootElement, null);

        Assert.Equal("1.50", data["A"]);
        Assert.Equal("-3", data["B"]);
    }
}

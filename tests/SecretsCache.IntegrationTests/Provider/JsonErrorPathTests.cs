using System.Text.Json.Serialization;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

/// <summary>
/// GetJson errors on values read from AWS: the JSON path (for a dictionary-shaped secret, its own keys, which are data)
/// appears only when <see cref="SecretsCacheOptions.IncludeNamesInTelemetry"/> allows names; line and byte always do.
/// </summary>
public sealed class JsonErrorPathTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string KeyThatIsData = "acme-payroll-db";

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_path_is_shown_only_where_names_are_allowed(bool includeNames)
    {
        var secretName = SecretName("json");
        var parameter = ParameterRoot() + "json";
        Aws.CreateSecret(secretName, $$"""{"{{KeyThatIsData}}": 5}""");
        Aws.PutParameter(parameter, $$"""{"{{KeyThatIsData}}": 5}""", "String");
        var provider = CreateProvider(o => o.IncludeNamesInTelemetry = includeNames);

        foreach (var reference in new[] { secretName, "ssm:" + parameter })
        {
            var secret = await provider.GetAsync(reference);
            var error = Assert.Throws<SecretFormatException>(() => secret.GetJson(PathJsonContext.Default.DictionaryStringString));

            Assert.Contains("line 0, byte ", error.Message, StringComparison.Ordinal);
            Assert.Equal(includeNames, error.Message.Contains($"path '$.{KeyThatIsData}'", StringComparison.Ordinal));
            Assert.Equal(includeNames, error.ToString().Contains(KeyThatIsData, StringComparison.Ordinal));
        }
    }
}

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class PathJsonContext : JsonSerializerContext;

using System.Text;
using System.Text.Json.Serialization;

namespace SecretsCache.Tests.Sources;

/// <summary>
/// A GetJson error gives the line and byte; the JSON path, which for a dictionary-shaped secret names the secret's own keys
/// (data), is shown only for values read through a provider whose options allow names (IncludeNamesInTelemetry).
/// </summary>
public sealed class JsonErrorPathTests
{
    private const string KeyThatIsData = "acme-payroll-db";

    [Fact]
    public void A_secret_built_without_the_option_gives_line_and_byte_but_no_path()
    {
        var json = $$"""{"{{KeyThatIsData}}": 5}""";
        foreach (var secret in new[] { new Secret("app/keys", json), new Secret("app/keys", Encoding.UTF8.GetBytes(json)) })
        {
            var error = Assert.Throws<SecretFormatException>(() => secret.GetJson(KeysJsonContext.Default.DictionaryStringString));

            Assert.DoesNotContain(KeyThatIsData, error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("path", error.Message, StringComparison.Ordinal);
            Assert.Contains("line 0, byte ", error.Message, StringComparison.Ordinal);
            Assert.Contains("app/keys", error.Message, StringComparison.Ordinal);
        }
    }
}

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class KeysJsonContext : JsonSerializerContext;

using System.Text;
using System.Text.Json.Serialization;

namespace SecretsCache.Tests;

/// <summary>A <see cref="Secret"/> hands out its value only when asked, and never through its description or its errors.</summary>
public sealed class SecretTests
{
    private const string Value = "hunter2-Sup3r-s3cret";

    [Fact]
    public void ToString_describes_the_secret_without_its_value()
    {
        var secret = new Secret("app/db", Value) { VersionId = "v7", VersionStages = ["AWSCURRENT"], Arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app/db-AbCdEf" };
        var binary = new Secret("app/key", Encoding.UTF8.GetBytes(Value));

        var text = secret.ToString();

        Assert.Contains("app/db", text, StringComparison.Ordinal);
        Assert.Contains("v7", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Value, text, StringComparison.Ordinal);
        Assert.DoesNotContain(Value, binary.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes(Value)), binary.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_binary_secret_read_as_a_string_throws_a_format_error_without_the_value()
    {
        var secret = new Secret("app/key", Encoding.UTF8.GetBytes(Value));

        var error = Assert.Throws<SecretFormatException>(() => secret.GetString());

        Assert.True(secret.IsBinary);
        Assert.Equal("app/key", error.Reference);
        Assert.Contains("binary", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Value, error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"user\":\"admin\",\"password\":\"" + Value + "\"")]   // truncated
    [InlineData("{\"user\":\"admin\",\"password\":" + Value + "}")]       // an unquoted value
    [InlineData("{\"user\":\"admin\",\"password\":[\"" + Value + "\"]}")] // the wrong type
    [InlineData(Value)]                                                     // not JSON at all
    public void Malformed_JSON_throws_a_format_error_that_carries_no_part_of_the_value(string json)
    {
        foreach (var secret in new[] { new Secret("app/db", json), new Secret("app/db", Encoding.UTF8.GetBytes(json)) })
        {
            var error = Assert.Throws<SecretFormatException>(() => secret.GetJson(TestJsonContext.Default.DbCredentials));

            Assert.Equal("app/db", error.Reference);
            Assert.Null(error.InnerException);
            Assert.DoesNotContain(Value, error.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void JSON_null_is_a_format_error()
    {
        var error = Assert.Throws<SecretFormatException>(() => new Secret("app/db", "null").GetJson(TestJsonContext.Default.DbCredentials));

        Assert.Contains("null", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Valid_JSON_deserializes_through_source_generated_metadata()
    {
        var json = $"{{\"user\":\"admin\",\"password\":\"{Value}\"}}";

        var fromText = new Secret("app/db", json).GetJson(TestJsonContext.Default.DbCredentials);
        var fromBinary = new Secret("app/db", Encoding.UTF8.GetBytes(json)).GetJson(TestJsonContext.Default.DbCredentials);

        Assert.Equal(new DbCredentials("admin", Value), fromText);
        Assert.Equal(fromText, fromBinary);
    }

    [Fact]
    public void GetBytes_of_a_string_secret_is_its_UTF8_encoding()
    {
        const string text = "pässwörd-€-\U0001F511";

        var bytes = new Secret("app/db", text).GetBytes();

        Assert.Equal(Encoding.UTF8.GetBytes(text), bytes.ToArray());
    }

    [Fact]
    public void A_binary_secret_keeps_its_own_copy_of_the_bytes()
    {
        byte[] original = [1, 2, 3, 0, 255];
        var secret = new Secret("app/key", original);

        original[0] = 42;

        Assert.Equal(new byte[] { 1, 2, 3, 0, 255 }, secret.GetBytes().ToArray());
    }

    [Fact]
    public void Version_is_the_version_id_else_the_parameter_version()
    {
        Assert.Equal("v1", new Secret("a", "x") { VersionId = "v1", ParameterVersion = 3 }.Version);
        Assert.Equal("3", new Secret("a", "x") { ParameterVersion = 3 }.Version);
        Assert.Null(new Secret("a", "x").Version);
    }

    [Fact]
    public void A_secret_needs_a_name_and_a_value()
    {
        Assert.ThrowsAny<ArgumentException>(() => new Secret("", "x"));
        Assert.Throws<ArgumentNullException>(() => new Secret("a", (string)null!));
    }
}

internal sealed record DbCredentials(string User, string Password);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(DbCredentials))]
internal sealed partial class TestJsonContext : JsonSerializerContext;

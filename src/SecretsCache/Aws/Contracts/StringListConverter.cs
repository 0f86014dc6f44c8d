using System.Text.Json;
using System.Text.Json.Serialization;

namespace SecretsCache.Aws.Contracts;

/// <summary>
/// A JSON array of strings, read as one value. Without it, the first nested value of a response (GetSecretValue's
/// VersionStages) makes System.Text.Json allocate its array of read frames, about 530 bytes per response (measured with
/// <c>--miss --profile</c> in benchmarks/SecretsCache.Benchmarks). Anything but an array of strings is a
/// <see cref="JsonException"/>, as with the default converter.
/// </summary>
internal sealed class StringListConverter : JsonConverter<List<string>>
{
    public override List<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Expected an array of strings.");
        }

        var list = new List<string>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            list.Add(reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("Expected an array of strings."));
        }

        return list;
    }

    public override void Write(Utf8JsonWriter writer, List<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var item in value)
        {
            writer.WriteStringValue(item);
        }

        writer.WriteEndArray();
    }
}

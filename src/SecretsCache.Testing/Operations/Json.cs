using System.Text.Encodings.Web;
using System.Text.Json;

namespace SecretsCache.Testing.Operations;

/// <summary>Reading members of an already validated request, and writing AWS JSON 1.1 values.</summary>
internal static class Json
{
    /// <summary>Escapes only what JSON requires (AWS does not escape '+', '&lt;' and the like); the output is never HTML.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string? String(JsonElement input, string name) =>
        input.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static bool Bool(JsonElement input, string name) =>
        input.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    public static long? Long(JsonElement input, string name) =>
        input.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    public static byte[]? Blob(JsonElement input, string name) =>
        input.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetBytesFromBase64() : null;

    public static IReadOnlyList<string>? Strings(JsonElement input, string name) =>
        input.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.String).Select(v => v.GetString()!).ToList()
            : null;

    public static IReadOnlyList<JsonElement>? Objects(JsonElement input, string name) =>
        input.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(v => v.ValueKind == JsonValueKind.Object).ToList()
            : null;

    /// <summary>A list of <c>{"Key": ..., "Value": ...}</c>.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>>? Tags(JsonElement input, string name) =>
        Objects(input, name)?.Select(t => new KeyValuePair<string, string>(String(t, "Key") ?? string.Empty, String(t, "Value") ?? string.Empty)).ToList();

    /// <summary>AWS JSON 1.1 timestamps are epoch seconds, with milliseconds as a fraction.</summary>
    public static void WriteTimestamp(Utf8JsonWriter writer, string name, DateTimeOffset value) =>
        writer.WriteNumber(name, value.ToUnixTimeMilliseconds() / 1000m);

    public static void WriteStrings(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    public static void WriteTags(Utf8JsonWriter writer, string name, IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        writer.WriteStartArray(name);
        foreach (var tag in tags)
        {
            writer.WriteStartObject();
            writer.WriteString("Key", tag.Key);
            writer.WriteString("Value", tag.Value);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }
}

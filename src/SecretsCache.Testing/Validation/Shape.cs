using System.Text.Json;

namespace SecretsCache.Testing.Validation;

/// <summary>One shape of a service model, reduced to what validation and error bodies need.</summary>
internal sealed class Shape
{
    private Shape(string name, string type)
    {
        Name = name;
        Type = type;
    }

    public string Name { get; }

    /// <summary>structure, list, map, string, integer, long, boolean, blob, timestamp, double or float.</summary>
    public string Type { get; }

    public long? Min { get; private set; }

    public long? Max { get; private set; }

    public IReadOnlyList<string>? Enum { get; private set; }

    /// <summary>Member name to shape name, for structures.</summary>
    public IReadOnlyDictionary<string, string> Members { get; private set; } = new Dictionary<string, string>();

    public IReadOnlyList<string> Required { get; private set; } = [];

    /// <summary>Element shape of a list; key and value shapes of a map.</summary>
    public string? MemberShape { get; private set; }

    public string? KeyShape { get; private set; }

    public string? ValueShape { get; private set; }

    public bool IsException { get; private set; }

    /// <summary>A server-side (5xx) error.</summary>
    public bool IsFault { get; private set; }

    /// <summary>The member that carries an error's text: "Message" or "message", as the model spells it.</summary>
    public string? MessageMember =>
        Members.ContainsKey("Message") ? "Message" : Members.ContainsKey("message") ? "message" : null;

    public static Shape Parse(string name, JsonElement json)
    {
        var shape = new Shape(name, json.GetProperty("type").GetString()!);
        if (json.TryGetProperty("min", out var min))
        {
            shape.Min = (long)min.GetDouble();
        }

        if (json.TryGetProperty("max", out var max))
        {
            shape.Max = (long)max.GetDouble();
        }

        if (json.TryGetProperty("enum", out var values))
        {
            shape.Enum = values.EnumerateArray().Select(v => v.GetString()!).ToArray();
        }

        if (json.TryGetProperty("members", out var members))
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var member in members.EnumerateObject())
            {
                map[member.Name] = member.Value.GetProperty("shape").GetString()!;
            }

            shape.Members = map;
        }

        if (json.TryGetProperty("required", out var required))
        {
            shape.Required = required.EnumerateArray().Select(v => v.GetString()!).ToArray();
        }

        shape.MemberShape = ShapeReference(json, "member");
        shape.KeyShape = ShapeReference(json, "key");
        shape.ValueShape = ShapeReference(json, "value");
        shape.IsException = json.TryGetProperty("exception", out var exception) && exception.ValueKind == JsonValueKind.True;
        shape.IsFault = json.TryGetProperty("fault", out var fault) && fault.ValueKind == JsonValueKind.True;
        return shape;
    }

    private static string? ShapeReference(JsonElement json, string property) =>
        json.TryGetProperty(property, out var reference) && reference.ValueKind == JsonValueKind.Object
            ? reference.GetProperty("shape").GetString()
            : null;
}

using System.Globalization;
using System.Text.Json;
using SecretsCache.Testing.Protocol;

namespace SecretsCache.Testing.Validation;

/// <summary>
/// Checks a request body against the operation's input shape the way AWS's front end does: type mismatches are a
/// <c>SerializationException</c>; constraint violations (required, length, range, enum) are collected into one
/// <c>ValidationException</c>. Messages name the member path but never echo a submitted value.
/// </summary>
internal static class RequestValidator
{
    private const int MaxDepth = 32;

    public static void Validate(ServiceModel model, Shape input, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw Serialization("Start of structure or map expected.");
        }

        var errors = new List<string>();
        Walk(model, input, body, path: null, errors, depth: 0);
        if (errors.Count > 0)
        {
            var count = errors.Count == 1 ? "1 validation error detected: " : $"{errors.Count.ToString(CultureInfo.InvariantCulture)} validation errors detected: ";
            throw new AwsErrorException("ValidationException", count + string.Join("; ", errors));
        }
    }

    private static void Walk(ServiceModel model, Shape shape, JsonElement value, string? path, List<string> errors, int depth)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (depth > MaxDepth)
        {
            throw Serialization("Request nesting is too deep.");
        }

        switch (shape.Type)
        {
            case "structure":
                WalkStructure(model, shape, value, path, errors, depth);
                break;
            case "list":
                Expect(value, JsonValueKind.Array, "Start of list found where not expected.");
                CheckLength(shape, value.GetArrayLength(), path, errors);
                var index = 1;
                foreach (var element in value.EnumerateArray())
                {
                    Walk(model, model.GetShape(shape.MemberShape!), element, $"{path}.{index.ToString(CultureInfo.InvariantCulture)}.member", errors, depth + 1);
                    index++;
                }

                break;
            case "map":
                Expect(value, JsonValueKind.Object, "Start of structure or map found where not expected.");
                var entries = value.EnumerateObject().ToList();
                CheckLength(shape, entries.Count, path, errors);
                foreach (var entry in entries)
                {
                    CheckString(model.GetShape(shape.KeyShape!), entry.Name, $"{path}.key", errors);
                    Walk(model, model.GetShape(shape.ValueShape!), entry.Value, $"{path}.value", errors, depth + 1);
                }

                break;
            case "string":
                Expect(value, JsonValueKind.String, $"{TokenName(value)} can not be converted to a String");
                CheckString(shape, value.GetString()!, path, errors);
                break;
            case "integer":
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var integer))
                {
                    throw Serialization($"{TokenName(value)} can not be converted to an Integer");
                }

                CheckRange(shape, integer, path, errors);
                break;
            case "long":
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number))
                {
                    throw Serialization($"{TokenName(value)} can not be converted to a Long");
                }

                CheckRange(shape, number, path, errors);
                break;
            case "boolean":
                if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
                {
                    throw Serialization($"{TokenName(value)} can not be converted to a Boolean");
                }

                break;
            case "blob":
                Expect(value, JsonValueKind.String, $"{TokenName(value)} can not be converted to a Blob");
                if (!value.TryGetBytesFromBase64(out var bytes))
                {
                    throw Serialization("Base64 encoded binary data is invalid.");
                }

                CheckLength(shape, bytes.Length, path, errors);
                break;
            case "timestamp":
                Expect(value, JsonValueKind.Number, $"{TokenName(value)} can not be converted to a Timestamp");
                break;
            case "double" or "float":
                Expect(value, JsonValueKind.Number, $"{TokenName(value)} can not be converted to a Double");
                break;
            default:
                break;
        }
    }

    private static void WalkStructure(ServiceModel model, Shape shape, JsonElement value, string? path, List<string> errors, int depth)
    {
        Expect(value, JsonValueKind.Object, "Start of structure or map found where not expected.");
        foreach (var required in shape.Required)
        {
            if (!value.TryGetProperty(required, out var member) || member.ValueKind == JsonValueKind.Null)
            {
                errors.Add($"Value null at '{Child(path, required)}' failed to satisfy constraint: Member must not be null");
            }
        }

        foreach (var property in value.EnumerateObject())
        {
            // Unknown members are ignored, as AWS does for forward compatibility.
            if (shape.Members.TryGetValue(property.Name, out var memberShape))
            {
                Walk(model, model.GetShape(memberShape), property.Value, Child(path, property.Name), errors, depth + 1);
            }
        }
    }

    private static void CheckString(Shape shape, string text, string? path, List<string> errors)
    {
        CheckLength(shape, text.Length, path, errors);
        if (shape.Enum is { } allowed && !allowed.Contains(text, StringComparer.Ordinal))
        {
            errors.Add($"Value at '{path}' failed to satisfy constraint: Member must satisfy enum value set: [{string.Join(", ", allowed)}]");
        }
    }

    private static void CheckLength(Shape shape, long length, string? path, List<string> errors)
    {
        if (shape.Min is { } min && length < min)
        {
            errors.Add($"Value at '{path}' failed to satisfy constraint: Member must have length greater than or equal to {min.ToString(CultureInfo.InvariantCulture)}");
        }

        if (shape.Max is { } max && length > max)
        {
            errors.Add($"Value at '{path}' failed to satisfy constraint: Member must have length less than or equal to {max.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static void CheckRange(Shape shape, long number, string? path, List<string> errors)
    {
        if (shape.Min is { } min && number < min)
        {
            errors.Add($"Value at '{path}' failed to satisfy constraint: Member must have value greater than or equal to {min.ToString(CultureInfo.InvariantCulture)}");
        }

        if (shape.Max is { } max && number > max)
        {
            errors.Add($"Value at '{path}' failed to satisfy constraint: Member must have value less than or equal to {max.ToString(CultureInfo.InvariantCulture)}");
        }
    }

    private static void Expect(JsonElement value, JsonValueKind kind, string message)
    {
        if (value.ValueKind != kind)
        {
            throw Serialization(message);
        }
    }

    /// <summary>AWS spells member paths in lower camel case: <c>SecretId</c> is reported as <c>secretId</c>.</summary>
    private static string Child(string? path, string member)
    {
        var camel = char.ToLowerInvariant(member[0]) + member[1..];
        return path is null ? camel : $"{path}.{camel}";
    }

    private static string TokenName(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "STRING_VALUE",
        JsonValueKind.Number => "NUMBER_VALUE",
        JsonValueKind.True or JsonValueKind.False => "BOOLEAN_VALUE",
        JsonValueKind.Array => "START_ARRAY",
        JsonValueKind.Object => "START_OBJECT",
        _ => "VALUE",
    };

    private static AwsErrorException Serialization(string message) => new("SerializationException", message);
}

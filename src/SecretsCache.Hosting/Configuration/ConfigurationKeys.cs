using System.Globalization;
using System.Text.Json;

namespace SecretsCache.Hosting.Configuration;

/// <summary>Turns secrets into configuration keys: JSON flattening, Parameter Store path mapping, default key names.</summary>
internal static class ConfigurationKeys
{
    public static string Combine(string? prefix, string key) => prefix is null ? key : key.Length == 0 ? prefix : prefix + ":" + key;

    /// <summary><c>/app/prod/Db/Password</c> under <c>/app/prod/</c> is <c>Db:Password</c>.</summary>
    public static string FromParameterName(string name, string path)
    {
        var relative = name.StartsWith(path, StringComparison.Ordinal) ? name[path.Length..] : name.TrimStart('/');
        return relative.Trim('/').Replace('/', ':');
    }

    /// <summary>The default key of a plain secret: its name with <c>/</c> turned into <c>:</c>, for example <c>app:api-key</c>.</summary>
    public static string FromSecretName(string name) => name.Trim('/').Replace('/', ':');

    /// <summary>Adds <paramref name="secret"/> to <paramref name="data"/>: a JSON object flattened under <paramref name="key"/>, else one key.</summary>
    public static void Add(IDictionary<string, string?> data, Secret secret, string? key)
    {
        if (secret.IsBinary)
        {
            data[key ?? FromSecretName(secret.Name)] = Convert.ToBase64String(secret.GetBytes().Span);
            return;
        }

        var text = secret.GetString();
        if (TryParseObject(text) is { } document)
        {
            using (document)
            {
                Flatten(data, document.RootElement, key);
            }

            return;
        }

        data[key ?? FromSecretName(secret.Name)] = text;
    }

    /// <summary>Flattens JSON as the JSON configuration provider does: objects by property, arrays by index, empty ones as null.</summary>
    public static void Flatten(IDictionary<string, string?> data, JsonElement element, string? key)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var any = false;
                foreach (var property in element.EnumerateObject())
                {
                    any = true;
                    Flatten(data, property.Value, Combine(key, property.Name));
                }

                if (!any && key is not null)
                {
                    data[key] = null;
                }

                break;
            case JsonValueKind.Array:
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Flatten(data, item, Combine(key, index.ToString(CultureInfo.InvariantCulture)));
                    index++;
                }

                if (index == 0 && key is not null)
                {
                    data[key] = null;
                }

                break;
            case JsonValueKind.Null:
                if (key is not null)
                {
                    data[key] = null;
                }

                break;
            case JsonValueKind.String:
                data[key ?? string.Empty] = element.GetString();
                break;
            default: // Numbers, true, false: their JSON text, as the JSON provider keeps them.
                data[key ?? string.Empty] = element.ValueKind switch
                {
                    JsonValueKind.True => bool.TrueString,
                    JsonValueKind.False => bool.FalseString,
                    _ => element.GetRawText(),
                };
                break;
        }
    }

    private static JsonDocument? TryParseObject(string text)
    {
        var trimmed = text.AsSpan().TrimStart();
        if (trimmed.IsEmpty || trimmed[0] != '{')
        {
            return null;
        }

        try
        {
            return JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException)
        {
            return null; // Not JSON after all: loaded as one string. The parser's message may quote the value, so it is dropped.
        }
    }
}

using System.Text;
using System.Text.Json;
using SecretsCache.Testing.Protocol;
using SecretsCache.Testing.State;

namespace SecretsCache.Testing.Operations;

/// <summary>GetParametersByPath: a page of at most 10 parameters under a path, by name, with an opaque NextToken.</summary>
internal static partial class ParameterStoreApi
{
    private const int DefaultPathPage = 10;

    public static void GetParametersByPath(OperationContext context, Utf8JsonWriter output)
    {
        var input = context.Input;
        var path = Json.String(input, "Path")!;
        var decrypt = Json.Bool(input, "WithDecryption");
        if (!path.StartsWith('/') || path.StartsWith("/aws/reference", StringComparison.OrdinalIgnoreCase))
        {
            throw new AwsErrorException("ValidationException", "The parameter path must begin with a forward slash (/) and can't be a public or reference path such as /aws/reference/secretsmanager.");
        }

        var filters = Json.Objects(input, "ParameterFilters") ?? [];
        var label = LabelFilter(filters);
        var candidates = context.State.Parameters.ListByPath(
            path,
            Json.Bool(input, "Recursive"),
            label is null ? null : r => r.Versions.Find(v => v.Labels.Contains(label, StringComparer.Ordinal)));

        // Parameters the caller may not read are left out rather than failing the page.
        var after = DecodePathToken(Json.String(input, "NextToken"));
        var matching = candidates
            .Where(p => after is null || string.CompareOrdinal(p.Name, after) > 0)
            .Where(p => !context.State.Access.IsDenied(EmulatorService.ParameterStore, p.Name))
            .Where(p => filters.All(f => Matches(f, p)))
            .ToList();
        var page = matching.Take((int)(Json.Long(input, "MaxResults") ?? DefaultPathPage)).ToList();

        output.WriteStartArray("Parameters");
        foreach (var value in page)
        {
            CheckDecryption(context, value, decrypt);
            WriteParameter(output, new ParameterAnswer(
                value.Name,
                value.Type,
                value.Type == "SecureString" && !decrypt ? value.Ciphertext! : value.Value,
                value.Version,
                null,
                null,
                value.LastModifiedDate,
                value.Arn,
                value.DataType));
        }

        output.WriteEndArray();
        if (page.Count < matching.Count)
        {
            output.WriteString("NextToken", Convert.ToBase64String(Encoding.UTF8.GetBytes("after:" + page[^1].Name)));
        }
    }

    private static string? LabelFilter(IReadOnlyList<JsonElement> filters)
    {
        foreach (var filter in filters)
        {
            var key = Json.String(filter, "Key");
            if (key is not ("Type" or "KeyId" or "Label") && key?.StartsWith("tag:", StringComparison.Ordinal) != true)
            {
                throw new AwsErrorException("InvalidFilterKey", "The following filter key is not valid: use Type, KeyId, Label or tag:<key> with GetParametersByPath.");
            }

            if (Json.String(filter, "Option") is { } option && option != "Equals")
            {
                throw new AwsErrorException("InvalidFilterOption", "The filter option is not valid. GetParametersByPath supports only Equals.");
            }
        }

        return filters.Where(f => Json.String(f, "Key") == "Label").Select(f => Json.Strings(f, "Values") is { Count: > 0 } values ? values[0] : null).FirstOrDefault();
    }

    private static bool Matches(JsonElement filter, ParameterValue parameter)
    {
        var key = Json.String(filter, "Key")!;
        var values = Json.Strings(filter, "Values") ?? [];
        return key switch
        {
            "Type" => values.Contains(parameter.Type, StringComparer.Ordinal),
            "KeyId" => parameter.KeyId is not null && values.Contains(parameter.KeyId, StringComparer.Ordinal),
            "Label" => true,
            _ => parameter.Tags.Any(t => t.Key == key[4..] && (values.Count == 0 || values.Contains(t.Value, StringComparer.Ordinal))),
        };
    }

    private static string? DecodePathToken(string? token)
    {
        if (token is null)
        {
            return null;
        }

        var bytes = new byte[token.Length];
        if (Convert.TryFromBase64String(token, bytes, out var written)
            && Encoding.UTF8.GetString(bytes, 0, written) is var text
            && text.StartsWith("after:", StringComparison.Ordinal))
        {
            return text[6..];
        }

        throw new AwsErrorException("InvalidNextToken", "The specified token isn't valid.");
    }
}

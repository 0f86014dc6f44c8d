using System.Globalization;
using System.Text;
using System.Text.Json;
using SecretsCache.Testing.Protocol;
using SecretsCache.Testing.State;

namespace SecretsCache.Testing.Operations;

/// <summary>BatchGetSecretValue: per-secret failures are reported in <c>Errors</c>, never as a failed call.</summary>
internal static partial class SecretsManagerApi
{
    private const int DefaultBatchPage = 20;

    public static void BatchGetSecretValue(OperationContext context, Utf8JsonWriter output)
    {
        var input = context.Input;
        var ids = Json.Strings(input, "SecretIdList");
        var filters = Json.Objects(input, "Filters");
        if ((ids is null) == (filters is null))
        {
            throw new AwsErrorException("InvalidParameterException", "You must provide either SecretIdList or Filters, but not both.");
        }

        string? nextToken = null;
        if (ids is null)
        {
            var matching = context.State.Secrets.ListLive().Where(s => filters!.All(f => Matches(f, s))).Select(s => s.Name).ToList();
            var start = DecodeToken(Json.String(input, "NextToken"));
            var size = (int)(Json.Long(input, "MaxResults") ?? DefaultBatchPage);
            ids = matching.Skip(start).Take(size).ToList();
            nextToken = start + size < matching.Count ? EncodeToken(start + size) : null;
        }

        var values = new List<SecretValue>();
        var errors = new List<(string SecretId, string Code, string? Message)>();
        foreach (var id in ids)
        {
            try
            {
                values.Add(ReadValue(context with { Operation = "GetSecretValue" }, id, versionId: null, versionStage: null));
            }
            catch (AwsErrorException error)
            {
                errors.Add((id, error.Code, error.AwsMessage));
            }
        }

        output.WriteStartArray("SecretValues");
        foreach (var value in values)
        {
            output.WriteStartObject();
            WriteValue(output, value);
            output.WriteEndObject();
        }

        output.WriteEndArray();
        output.WriteStartArray("Errors");
        foreach (var (secretId, code, message) in errors)
        {
            output.WriteStartObject();
            output.WriteString("SecretId", secretId);
            output.WriteString("ErrorCode", code);
            output.WriteString("Message", message);
            output.WriteEndObject();
        }

        output.WriteEndArray();
        if (nextToken is not null)
        {
            output.WriteString("NextToken", nextToken);
        }
    }

    /// <summary>AWS's ListSecrets filter rules: values are prefixes, a leading '!' negates, any value may match.</summary>
    private static bool Matches(JsonElement filter, SecretDescription secret)
    {
        var key = Json.String(filter, "Key");
        var values = Json.Strings(filter, "Values") ?? [];
        IEnumerable<string> candidates = key switch
        {
            "name" => [secret.Name],
            "description" => secret.Description is null ? [] : [secret.Description],
            "tag-key" => secret.Tags.Select(t => t.Key),
            "tag-value" => secret.Tags.Select(t => t.Value),
            "all" => new[] { secret.Name, secret.Description ?? string.Empty }.Concat(secret.Tags.SelectMany(t => new[] { t.Key, t.Value })),
            _ => [],
        };
        var list = candidates.ToList();
        return values.Any(v => v.StartsWith('!')
            ? !list.Any(c => c.StartsWith(v[1..], StringComparison.Ordinal))
            : list.Any(c => c.StartsWith(v, StringComparison.Ordinal)));
    }

    private static string EncodeToken(int offset) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes("offset:" + offset.ToString(CultureInfo.InvariantCulture)));

    private static int DecodeToken(string? token)
    {
        if (token is null)
        {
            return 0;
        }

        var bytes = new byte[token.Length];
        if (Convert.TryFromBase64String(token, bytes, out var written)
            && Encoding.UTF8.GetString(bytes, 0, written) is var text
            && text.StartsWith("offset:", StringComparison.Ordinal)
            && int.TryParse(text.AsSpan(7), NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
        {
            return offset;
        }

        throw new AwsErrorException("InvalidNextTokenException", "The NextToken value is invalid.");
    }
}

using System.Buffers;
using System.Text;
using System.Text.Json;
using SecretsCache.Testing.Protocol;
using SecretsCache.Testing.State;

namespace SecretsCache.Testing.Operations;

/// <summary>
/// Parameter Store's read-through to Secrets Manager: <c>/aws/reference/secretsmanager/&lt;secret-id&gt;[:stage-or-version]</c>
/// answers a SecureString parameter holding the secret, version 0, with the secret's DescribeSecret JSON as <c>SourceResult</c>.
/// </summary>
internal static class Passthrough
{
    public const string Prefix = "/aws/reference/secretsmanager/";

    public static bool IsReference(string name) => name.StartsWith(Prefix, StringComparison.Ordinal);

    public static AwsErrorException DecryptionRequired() =>
        new("ValidationException", "WithDecryption flag must be True for retrieving a Secret Manager secret.");

    public static ParameterAnswer Read(OperationContext context, string name, bool decrypt)
    {
        if (!decrypt)
        {
            throw DecryptionRequired();
        }

        var (secretId, selector) = Split(name[Prefix.Length..]);
        var secrets = context.State.Secrets;
        if (secretId.Length == 0 || secrets.TryResolveName(secretId) is null)
        {
            throw new AwsErrorException("ParameterNotFound", $"Secret {secretId} not found.");
        }

        if (context.State.Access.IsDenied(EmulatorService.SecretsManager, secrets.TryResolveName(secretId)))
        {
            throw SecretsManagerApi.AccessDenied(context with { Operation = "GetSecretValue" }, secretId);
        }

        // A selector names a version id when the secret has one by that id; otherwise a staging label.
        var isVersionId = selector is not null && secrets.Describe(secretId).VersionIdsToStages.Any(v => v.Key == selector);
        SecretValue value;
        try
        {
            value = secrets.GetValue(secretId, isVersionId ? selector : null, isVersionId ? null : selector);
        }
        catch (AwsErrorException error) when (error.Code == "ResourceNotFoundException")
        {
            throw new AwsErrorException("ParameterVersionNotFound", $"Secrets Manager can't find the specified secret value for selector: {selector}");
        }
        catch (AwsErrorException error) when (error.Code == "InvalidRequestException")
        {
            throw new AwsErrorException("ParameterNotFound", $"Secret {secretId} not found.");
        }

        if (context.State.Access.FailsDecryption(EmulatorService.SecretsManager, value.Name))
        {
            throw ParameterStoreApi.KeyDisabled(context, "alias/aws/secretsmanager");
        }

        return new ParameterAnswer(
            selector is null ? name : name[..^(selector.Length + 1)],
            "SecureString",
            value.SecretString ?? Convert.ToBase64String(value.SecretBinary!),
            0,
            selector is null ? null : ":" + selector,
            DescribeJson(secrets.Describe(secretId)),
            value.CreatedDate,
            value.Arn,
            "text");
    }

    /// <summary>Splits the secret id from a selector; a secret ARN carries seven colon-separated parts of its own.</summary>
    private static (string SecretId, string? Selector) Split(string reference)
    {
        if (reference.StartsWith("arn:", StringComparison.Ordinal))
        {
            var parts = reference.Split(':');
            return parts.Length > 7 ? (string.Join(':', parts[..7]), string.Join(':', parts[7..])) : (reference, null);
        }

        var colon = reference.LastIndexOf(':');
        return colon < 0 ? (reference, null) : (reference[..colon], reference[(colon + 1)..]);
    }

    private static string DescribeJson(SecretDescription description)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Json.WriterOptions))
        {
            writer.WriteStartObject();
            SecretsManagerApi.WriteDescription(writer, description);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}

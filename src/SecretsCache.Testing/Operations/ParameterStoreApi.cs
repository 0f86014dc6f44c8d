using System.Text.Json;
using System.Text.RegularExpressions;
using SecretsCache.Testing.Protocol;
using SecretsCache.Testing.State;

namespace SecretsCache.Testing.Operations;

/// <summary>The Parameter Store operations, shaped as in the service model.</summary>
internal static partial class ParameterStoreApi
{
    public static void GetParameter(OperationContext context, Utf8JsonWriter output)
    {
        var name = Json.String(context.Input, "Name")!;
        var decrypt = Json.Bool(context.Input, "WithDecryption");
        output.WritePropertyName("Parameter");
        WriteParameter(output, Read(context, name, decrypt));
    }

    public static void GetParameters(OperationContext context, Utf8JsonWriter output)
    {
        var names = Json.Strings(context.Input, "Names")!;
        var decrypt = Json.Bool(context.Input, "WithDecryption");
        if (!decrypt && names.Any(Passthrough.IsReference))
        {
            throw Passthrough.DecryptionRequired();
        }

        // Access and decryption failures fail the whole call; unknown names and versions are only reported.
        var parameters = new List<ParameterAnswer>();
        var invalid = new List<string>();
        foreach (var name in names.Distinct(StringComparer.Ordinal))
        {
            try
            {
                parameters.Add(Read(context, name, decrypt));
            }
            catch (AwsErrorException error) when (error.Code is "ParameterNotFound" or "ParameterVersionNotFound")
            {
                invalid.Add(name);
            }
        }

        output.WriteStartArray("Parameters");
        foreach (var parameter in parameters)
        {
            WriteParameter(output, parameter);
        }

        output.WriteEndArray();
        Json.WriteStrings(output, "InvalidParameters", invalid);
    }

    public static void PutParameter(OperationContext context, Utf8JsonWriter output)
    {
        var input = context.Input;
        var value = Json.String(input, "Value")!;
        if (Json.String(input, "AllowedPattern") is { Length: > 0 } pattern && !AllowedPatternMatches(pattern, value))
        {
            throw new AwsErrorException("ParameterPatternMismatchException", "Parameter value, cannot be validated against allowedPattern.");
        }

        var (version, tier) = context.State.Parameters.Put(
            Json.String(input, "Name")!,
            value,
            new ParameterWrite(
                Json.String(input, "Type"),
                Json.Bool(input, "Overwrite"),
                Json.String(input, "KeyId"),
                Json.String(input, "Tier"),
                Json.String(input, "DataType"),
                Json.Tags(input, "Tags")));
        output.WriteNumber("Version", version);
        output.WriteString("Tier", tier);
    }

    public static void DeleteParameter(OperationContext context, Utf8JsonWriter output) =>
        context.State.Parameters.Delete(Json.String(context.Input, "Name")!);

    public static void LabelParameterVersion(OperationContext context, Utf8JsonWriter output)
    {
        var (invalid, version) = context.State.Parameters.Label(
            Json.String(context.Input, "Name")!,
            Json.Long(context.Input, "ParameterVersion"),
            Json.Strings(context.Input, "Labels")!);
        Json.WriteStrings(output, "InvalidLabels", invalid);
        output.WriteNumber("ParameterVersion", version);
    }

    /// <summary>Reads a parameter, or a Secrets Manager secret through the passthrough, as GetParameter answers it.</summary>
    private static ParameterAnswer Read(OperationContext context, string nameOrArn, bool decrypt)
    {
        if (Passthrough.IsReference(nameOrArn))
        {
            return Passthrough.Read(context, nameOrArn, decrypt);
        }

        var (name, selector) = context.State.Parameters.SplitSelector(nameOrArn);
        CheckAccess(context, name);
        var value = context.State.Parameters.Get(name, selector);
        CheckDecryption(context, value, decrypt);
        return new ParameterAnswer(
            value.Name,
            value.Type,
            value.Type == "SecureString" && !decrypt ? value.Ciphertext! : value.Value,
            value.Version,
            selector is null ? null : ":" + selector,
            null,
            value.LastModifiedDate,
            value.Arn,
            value.DataType);
    }

    private static void CheckAccess(OperationContext context, string name)
    {
        if (context.State.Access.IsDenied(EmulatorService.ParameterStore, name))
        {
            throw new AwsErrorException(
                "AccessDeniedException",
                $"User: arn:{context.State.Arns.Partition}:iam::{context.State.Arns.AccountId}:user/emulator is not authorized to perform: ssm:{context.Operation} on resource: {context.State.Arns.Parameter(name)} because no identity-based policy allows the ssm:{context.Operation} action");
        }
    }

    private static void CheckDecryption(OperationContext context, ParameterValue value, bool decrypt)
    {
        if (decrypt && value.Type == "SecureString" && context.State.Access.FailsDecryption(EmulatorService.ParameterStore, value.Name))
        {
            throw KeyDisabled(context, value.KeyId ?? "alias/aws/ssm");
        }
    }

    /// <summary>A disabled KMS key surfaces through SSM as InvalidKeyId carrying KMS's own error text.</summary>
    internal static AwsErrorException KeyDisabled(OperationContext context, string keyId) => new(
        "InvalidKeyId",
        $"{context.State.Arns.KmsKey(keyId)} is disabled. (Service: AWSKMS; Status Code: 400; Error Code: DisabledException; Request ID: {context.RequestId}; Proxy: null)");

    internal static void WriteParameter(Utf8JsonWriter output, ParameterAnswer parameter)
    {
        output.WriteStartObject();
        output.WriteString("Name", parameter.Name);
        output.WriteString("Type", parameter.Type);
        output.WriteString("Value", parameter.Value);
        output.WriteNumber("Version", parameter.Version);
        if (parameter.Selector is not null)
        {
            output.WriteString("Selector", parameter.Selector);
        }

        if (parameter.SourceResult is not null)
        {
            output.WriteString("SourceResult", parameter.SourceResult);
        }

        Json.WriteTimestamp(output, "LastModifiedDate", parameter.LastModifiedDate);
        output.WriteString("ARN", parameter.Arn);
        output.WriteString("DataType", parameter.DataType);
        output.WriteEndObject();
    }

    private static bool AllowedPatternMatches(string pattern, string value)
    {
        try
        {
            return Regex.IsMatch(value, pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (RegexMatchTimeoutException)
        {
            return false;
        }
        catch (ArgumentException)
        {
            throw new AwsErrorException("InvalidAllowedPatternException", "The allowed pattern is not a valid regular expression.");
        }
    }
}

/// <summary>One Parameter object as GetParameter(s) and GetParametersByPath answer it.</summary>
internal sealed record ParameterAnswer(
    string Name,
    string Type,
    string Value,
    long Version,
    string? Selector,
    string? SourceResult,
    DateTimeOffset LastModifiedDate,
    string Arn,
    string DataType);

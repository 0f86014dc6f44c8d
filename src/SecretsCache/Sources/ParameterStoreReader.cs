using System.Text.Json;
using SecretsCache.Aws.Contracts;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Protocol;
using SecretsCache.References;

namespace SecretsCache.Sources;

/// <summary>
/// Reads Parameter Store: GetParameter, GetParameters (10 names a call) and GetParametersByPath, always with decryption
/// (SecureString values, and the <c>/aws/reference/secretsmanager/</c> passthrough, which AWS refuses without it).
/// With <c>namesInErrors</c> (<see cref="SecretsCacheOptions.IncludeNamesInTelemetry"/>), values may name JSON paths in errors.
/// </summary>
internal sealed class ParameterStoreReader(AwsJsonClient client, TimeProvider time, bool namesInErrors)
{
    public const int BatchLimit = 10;
    /// <summary>
    /// The most GetParametersByPath pages one listing reads: 10,000 pages of MaxResults 10 (ssm/paginators-1.json pages by
    /// NextToken; the model caps MaxResults at 10) hold 100,000 parameters, the advanced tier's limit per account and region,
    /// so a longer listing is not a legitimate answer. Reaching it fails the listing, typed, instead of truncating it.
    /// </summary>
    public const int MaxPathPages = 10_000;

    public const string PathTooLarge = "PathTooLarge";

    public async ValueTask<Secret> FetchAsync(SecretReference reference, CancellationToken cancellationToken)
    {
        var result = await client.SendAsync(
            AwsService.ParameterStore,
            reference.Region,
            "GetParameter",
            new GetParameterRequest { Name = RequestName(reference), WithDecryption = true },
            AwsJsonContext.Default.GetParameterRequest,
            AwsJsonContext.Default.GetParameterResult,
            reference.ToString(),
            cancellationToken).ConfigureAwait(false);

        // AWS answers an unknown name with ParameterNotFound, never with a 200: a success without a parameter is malformed.
        var parameter = result.Parameter ?? throw MalformedAnswer.Create(AwsService.ParameterStore, "GetParameter", reference.ToString(), "its Parameter");
        return Missing(parameter, reference) is { } missing
            ? throw MalformedAnswer.Create(AwsService.ParameterStore, "GetParameter", reference.ToString(), missing)
            : ToSecret(parameter, reference);
    }

    /// <summary>
    /// Reads up to 10 parameters of one region in one call. Names AWS lists as invalid are not found. An answer is taken
    /// only when it names one request unmistakably; requests left unanswered (null) are read singly by the caller.
    /// </summary>
    public async Task<FetchOutcome?[]> FetchBatchAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken)
    {
        var names = references.Select(RequestName).ToList();
        var result = await client.SendAsync(
            AwsService.ParameterStore,
            references[0].Region,
            "GetParameters",
            new GetParametersRequest { Names = names, WithDecryption = true },
            AwsJsonContext.Default.GetParametersRequest,
            AwsJsonContext.Default.GetParametersResult,
            null,
            cancellationToken).ConfigureAwait(false);
        if (result.Parameters is null && result.InvalidParameters is null)
        {
            throw MalformedAnswer.Create(AwsService.ParameterStore, "GetParameters", null, "Parameters or InvalidParameters");
        }

        // Every answer that names a request exactly (its name or ARN, then its Selector) is a candidate for that request.
        var candidates = new List<Parameter>?[references.Count];
        foreach (var parameter in result.Parameters ?? [])
        {
            if (parameter is null)
            {
                continue;
            }

            var selector = parameter.Selector ?? string.Empty;
            for (var i = 0; i < references.Count; i++)
            {
                if ((parameter.Name is not null && names[i] == parameter.Name + selector) || (parameter.ARN is not null && names[i] == parameter.ARN + selector))
                {
                    (candidates[i] ??= []).Add(parameter);
                }
            }
        }

        var invalid = new HashSet<string>(result.InvalidParameters ?? [], StringComparer.Ordinal);
        var outcomes = new FetchOutcome?[references.Count];
        for (var i = 0; i < references.Count; i++)
        {
            var answers = candidates[i]?.Count ?? 0;
            var listedInvalid = invalid.Contains(names[i]);
            if (answers + (listedInvalid ? 1 : 0) != 1)
            {
                continue; // No answer, or answers that contradict each other or cannot be told apart: read singly.
            }

            if (listedInvalid)
            {
                outcomes[i] = FetchOutcome.Failure(new SecretNotFoundException(
                    $"AWS Parameter Store has no '{references[i]}' (listed in InvalidParameters).", references[i].ToString(), "ParameterNotFound"));
                continue;
            }

            var parameter = candidates[i]![0];
            if (parameter.Selector is null && MayAnswerAnother(parameter, i, names, candidates))
            {
                continue;
            }

            outcomes[i] = Missing(parameter, references[i]) is { } missing
                ? FetchOutcome.Failure(MalformedAnswer.Create(AwsService.ParameterStore, "GetParameters", references[i].ToString(), missing))
                : FetchOutcome.Success(ToSecret(parameter, references[i]));
        }

        return outcomes;
    }

    /// <summary>Reads every parameter under a path, following NextToken (bounded).</summary>
    public async Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken, int maxPages = MaxPathPages)
    {
        var secrets = new List<Secret>();
        string? nextToken = null;
        var pages = 0;
        do
        {
            var result = await client.SendAsync(
                AwsService.ParameterStore,
                null,
                "GetParametersByPath",
                new GetParametersByPathRequest { Path = path, Recursive = recursive, WithDecryption = true, MaxResults = BatchLimit, NextToken = nextToken },
                AwsJsonContext.Default.GetParametersByPathRequest,
                AwsJsonContext.Default.GetParametersByPathResult,
                "ssm:" + path,
                cancellationToken).ConfigureAwait(false);

            // A listing with a hole would silently drop configuration keys: a page that lacks anything fails the whole listing.
            var parameters = result.Parameters ?? throw MalformedAnswer.Create(AwsService.ParameterStore, "GetParametersByPath", "ssm:" + path, "Parameters");
            foreach (var parameter in parameters)
            {
                if (Missing(parameter, null) is { } missing)
                {
                    throw MalformedAnswer.Create(AwsService.ParameterStore, "GetParametersByPath", "ssm:" + path, missing);
                }

                secrets.Add(ToSecret(parameter!, null));
            }

            nextToken = string.IsNullOrEmpty(result.NextToken) ? null : result.NextToken;
            if (nextToken is not null && ++pages >= maxPages)
            {
                throw new SecretServiceUnavailableException(
                    $"Listing the Parameter Store path '{path}' did not end within {maxPages:N0} pages ({maxPages * BatchLimit:N0} parameters, above what one account and region can hold), so it was refused rather than cut short.",
                    "ssm:" + path,
                    PathTooLarge);
            }
        }
        while (nextToken is not null);

        return secrets;
    }

    /// <summary>The Name sent to AWS: the name or ARN, then <c>:version</c>, <c>:label</c>, or the passthrough's <c>:stage</c>/<c>:versionId</c>.</summary>
    internal static string RequestName(SecretReference reference) =>
        reference.ParameterSelector is { } selector ? reference.Name + ":" + selector : reference.Name;

    /// <summary>
    /// What a parameter answer lacks that the library needs to build a <see cref="Secret"/>, or null: the name, the value,
    /// and (except for the Secrets Manager passthrough, which AWS reports as version 0) a version, which change detection reads.
    /// </summary>
    private static string? Missing(Parameter? parameter, SecretReference? reference) => parameter switch
    {
        null => "a parameter",
        { Name: null or "" } => "the parameter's Name",
        { Value: null } => "the parameter's Value",
        { Version: < 1 } when reference is not { IsPassthrough: true } => "the parameter's Version",
        _ => null,
    };

    /// <summary>
    /// Whether an answer without a Selector could belong to another request of the batch for the same parameter with a
    /// selector (name:version or name:label) that has no answer echoing its Selector: then the two cannot be told apart.
    /// </summary>
    private static bool MayAnswerAnother(Parameter parameter, int index, List<string> names, List<Parameter>?[] candidates)
    {
        for (var j = 0; j < names.Count; j++)
        {
            var sameParameter = (parameter.Name is not null && names[j].StartsWith(parameter.Name + ":", StringComparison.Ordinal))
                || (parameter.ARN is not null && names[j].StartsWith(parameter.ARN + ":", StringComparison.Ordinal));
            if (j != index && sameParameter && candidates[j] is not [{ Selector: not null }])
            {
                return true;
            }
        }

        return false;
    }

    private Secret ToSecret(Parameter parameter, SecretReference? reference)
    {
        var name = parameter.Name!;
        var value = parameter.Value!;
        if (reference is { IsPassthrough: true })
        {
            // The passthrough answers with the secret's DescribeSecret document, which says which version was read.
            var (arn, versionId, stages) = DescribePassthrough(parameter.SourceResult, reference);
            return Secret.FromWire(name, value, null, time.GetUtcNow(), arn ?? parameter.ARN, versionId, stages, showsJsonPath: namesInErrors);
        }

        return Secret.FromWire(name, value, null, time.GetUtcNow(), parameter.ARN, parameterVersion: parameter.Version, showsJsonPath: namesInErrors);
    }

    private static (string? Arn, string? VersionId, IReadOnlyList<string> Stages) DescribePassthrough(string? sourceResult, SecretReference reference)
    {
        if (string.IsNullOrEmpty(sourceResult))
        {
            return (null, reference.VersionId, []);
        }

        try
        {
            var description = JsonSerializer.Deserialize(sourceResult, AwsJsonContext.Default.DescribeSecretResponse);
            var versionId = reference.VersionId ?? SecretsManagerReader.VersionWithStage(description?.VersionIdsToStages, reference.VersionStage ?? ReferenceParser.CurrentStage);
            var stages = versionId is not null && description?.VersionIdsToStages?.TryGetValue(versionId, out var s) == true ? s : [];
            return (description?.ARN, versionId, stages);
        }
        catch (JsonException)
        {
            return (null, reference.VersionId, []);
        }
    }
}

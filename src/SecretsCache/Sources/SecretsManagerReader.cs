using SecretsCache.Aws.Contracts;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Protocol;
using SecretsCache.References;

namespace SecretsCache.Sources;

/// <summary>
/// Reads Secrets Manager: GetSecretValue, BatchGetSecretValue (20 ids a call) and DescribeSecret for version-aware refresh.
/// With <c>namesInErrors</c> (<see cref="SecretsCacheOptions.IncludeNamesInTelemetry"/>), values may name JSON paths in errors.
/// </summary>
internal sealed class SecretsManagerReader(AwsJsonClient client, TimeProvider time, bool versionAwareRefresh, bool namesInErrors)
{
    public const int BatchLimit = 20;
    private const int ArnSuffixLength = 7; // "-" and six random characters

    public async ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken)
    {
        if (versionAwareRefresh && current?.VersionId is not null && reference.VersionId is null)
        {
            var stage = reference.VersionStage ?? ReferenceParser.CurrentStage;
            var currentId = await CurrentVersionIdAsync(reference, stage, cancellationToken).ConfigureAwait(false);
            if (currentId is not null && string.Equals(currentId, current.VersionId, StringComparison.Ordinal))
            {
                return current; // Unchanged: the cached value stays, and no GetSecretValue is spent.
            }
        }

        var response = await client.SendAsync(
            AwsService.SecretsManager,
            reference.Region,
            "GetSecretValue",
            new GetSecretValueRequest { SecretId = reference.Name, VersionId = reference.VersionId, VersionStage = reference.VersionStage },
            AwsJsonContext.Default.GetSecretValueRequest,
            AwsJsonContext.Default.GetSecretValueResponse,
            reference.ToString(),
            cancellationToken).ConfigureAwait(false);
        return Missing(response) is { } missing
            ? throw MalformedAnswer.Create(AwsService.SecretsManager, "GetSecretValue", reference.ToString(), missing)
            : ToSecret(response);
    }

    /// <summary>
    /// Reads the AWSCURRENT version of many secrets of one region, 20 a call. An answer (a value or an error) is taken only
    /// when it is the one answer naming its request; ids answered not at all, or more than once, are left null for the
    /// caller to fetch one by one.
    /// </summary>
    public async Task<FetchOutcome?[]> FetchBatchAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken)
    {
        var answers = new (int Count, FetchOutcome Outcome)[references.Count];
        var region = references[0].Region;
        string? nextToken = null;
        var ids = references.Select(r => r.Name).ToList();
        var pages = 0;
        do
        {
            var response = await client.SendAsync(
                AwsService.SecretsManager,
                region,
                "BatchGetSecretValue",
                new BatchGetSecretValueRequest { SecretIdList = ids, NextToken = nextToken },
                AwsJsonContext.Default.BatchGetSecretValueRequest,
                AwsJsonContext.Default.BatchGetSecretValueResponse,
                null,
                cancellationToken).ConfigureAwait(false);
            var values = response.SecretValues ?? throw MalformedAnswer.Create(AwsService.SecretsManager, "BatchGetSecretValue", null, "SecretValues");

            foreach (var value in values.Where(v => v is not null))
            {
                for (var i = 0; i < references.Count; i++)
                {
                    if (Identifies(ids[i], value.Name, value.ARN))
                    {
                        answers[i] = (answers[i].Count + 1, Missing(value) is { } missing
                            ? FetchOutcome.Failure(MalformedAnswer.Create(AwsService.SecretsManager, "BatchGetSecretValue", references[i].ToString(), missing))
                            : FetchOutcome.Success(ToSecret(value)));
                    }
                }
            }

            foreach (var error in (response.Errors ?? []).Where(e => e is not null))
            {
                for (var i = 0; i < references.Count; i++)
                {
                    if (string.Equals(ids[i], error.SecretId, StringComparison.Ordinal))
                    {
                        answers[i] = (answers[i].Count + 1, FetchOutcome.Failure(AwsErrorMapper.MapEntryError(
                            AwsJsonClient.ServiceName(AwsService.SecretsManager), error.ErrorCode, error.Message, references[i].ToString())));
                    }
                }
            }

            nextToken = response.NextToken;
        }
        while (nextToken is not null && ++pages < BatchLimit);

        return answers.Select(a => a.Count == 1 ? a.Outcome : (FetchOutcome?)null).ToArray();
    }

    private async Task<string?> CurrentVersionIdAsync(SecretReference reference, string stage, CancellationToken cancellationToken)
    {
        var description = await client.SendAsync(
            AwsService.SecretsManager,
            reference.Region,
            "DescribeSecret",
            new DescribeSecretRequest { SecretId = reference.Name },
            AwsJsonContext.Default.DescribeSecretRequest,
            AwsJsonContext.Default.DescribeSecretResponse,
            reference.ToString(),
            cancellationToken).ConfigureAwait(false);

        // A secret scheduled for deletion keeps its versions in DescribeSecret but can no longer be read: answer "unknown"
        // so GetSecretValue gives the authoritative error instead of the cached value being renewed.
        if (description.DeletedDate is not null)
        {
            return null;
        }

        // A secret the cache holds a version of always has versions: a success without them is malformed, not "changed".
        var versions = description.VersionIdsToStages ?? throw MalformedAnswer.Create(AwsService.SecretsManager, "DescribeSecret", reference.ToString(), "VersionIdsToStages");
        return VersionWithStage(versions, stage);
    }

    internal static string? VersionWithStage(Dictionary<string, List<string>>? versions, string stage) =>
        versions?.FirstOrDefault(v => v.Value?.Contains(stage, StringComparer.Ordinal) == true).Key; // a null list: no stages

    /// <summary>
    /// Whether a batch answer is for the secret <paramref name="id"/> names: by name, by full ARN, or by partial ARN, which is
    /// the full ARN without the "-" and six random characters AWS appends (so app/db never matches app/db-prod's ARN).
    /// </summary>
    private static bool Identifies(string id, string? name, string? arn) =>
        string.Equals(id, name, StringComparison.Ordinal) || string.Equals(id, arn, StringComparison.Ordinal)
        || (arn is not null && id.StartsWith("arn:", StringComparison.Ordinal) && arn.Length == id.Length + ArnSuffixLength
            && arn.StartsWith(id, StringComparison.Ordinal) && arn[id.Length] == '-');

    /// <summary>
    /// What a GetSecretValue answer lacks that the library needs, or null: a value, the name, and the version id, which
    /// change detection and version-aware refresh read.
    /// </summary>
    private static string? Missing(GetSecretValueResponse response) => response switch
    {
        { SecretString: null, SecretBinary: null } => "SecretString or SecretBinary",
        { Name: null or "" } => "the secret's Name",
        { VersionId: null or "" } => "the secret's VersionId",
        _ => null,
    };

    private Secret ToSecret(GetSecretValueResponse response) =>
        Secret.FromWire(
            response.Name!,
            response.SecretString,
            response.SecretString is null ? response.SecretBinary : null,
            time.GetUtcNow(),
            response.ARN,
            response.VersionId,
            response.VersionStages,
            showsJsonPath: namesInErrors);
}

using SecretsCache.Aws.Contracts;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Protocol;
using SecretsCache.References;

namespace SecretsCache.Sources;

/// <summary>Reads Secrets Manager: GetSecretValue, BatchGetSecretValue (20 ids a call) and DescribeSecret for version-aware refresh.</summary>
internal sealed class SecretsManagerReader(AwsJsonClient client, TimeProvider time, bool versionAwareRefresh)
{
    public const int BatchLimit = 20;

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
        return ToSecret(response, reference);
    }

    /// <summary>
    /// Reads the AWSCURRENT version of many secrets of one region, 20 a call. Ids AWS answers neither with a value nor an error
    /// are left null for the caller to fetch one by one.
    /// </summary>
    public async Task<FetchOutcome?[]> FetchBatchAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken)
    {
        var outcomes = new FetchOutcome?[references.Count];
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

            foreach (var value in response.SecretValues ?? [])
            {
                var index = IndexOf(references, value.Name, value.ARN);
                if (index >= 0)
                {
                    outcomes[index] = FetchOutcome.Success(ToSecret(value, references[index]));
                }
            }

            foreach (var error in response.Errors ?? [])
            {
                var index = IndexOf(references, error.SecretId, null);
                if (index >= 0)
                {
                    outcomes[index] = FetchOutcome.Failure(AwsErrorMapper.Map(AwsJsonClient.ServiceName(AwsService.SecretsManager), 400, error.ErrorCode, error.Message, references[index].ToString()));
                }
            }

            nextToken = response.NextToken;
        }
        while (nextToken is not null && ++pages < BatchLimit);

        return outcomes;
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
        return description.DeletedDate is null ? VersionWithStage(description.VersionIdsToStages, stage) : null;
    }

    internal static string? VersionWithStage(Dictionary<string, List<string>>? versions, string stage) =>
        versions?.FirstOrDefault(v => v.Value.Contains(stage, StringComparer.Ordinal)).Key;

    private static int IndexOf(IReadOnlyList<SecretReference> references, string? name, string? arn)
    {
        for (var i = 0; i < references.Count; i++)
        {
            var id = references[i].Name;
            if (string.Equals(id, name, StringComparison.Ordinal) || string.Equals(id, arn, StringComparison.Ordinal)
                || (arn is not null && id.StartsWith("arn:", StringComparison.Ordinal) && arn.StartsWith(id + "-", StringComparison.Ordinal)))
            {
                return i;
            }
        }

        return -1;
    }

    private Secret ToSecret(GetSecretValueResponse response, SecretReference reference)
    {
        if (response.SecretString is null && response.SecretBinary is null)
        {
            throw new SecretRequestException($"AWS Secrets Manager returned no SecretString or SecretBinary for '{reference}'.", reference.ToString());
        }

        return Secret.FromWire(
            response.Name ?? reference.Name,
            response.SecretString,
            response.SecretString is null ? response.SecretBinary : null,
            time.GetUtcNow(),
            response.ARN,
            response.VersionId,
            response.VersionStages);
    }
}

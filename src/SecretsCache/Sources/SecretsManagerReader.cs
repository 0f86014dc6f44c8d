using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using SecretsCache.Aws.Contracts;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Protocol;
using SecretsCache.Diagnostics;
using SecretsCache.References;
using SecretsCache.Resilience;

namespace SecretsCache.Sources;

/// <summary>
/// Reads Secrets Manager: GetSecretValue, BatchGetSecretValue (20 ids a call) and DescribeSecret for version-aware refresh.
/// With <c>namesInErrors</c> (<see cref="SecretsCacheOptions.IncludeNamesInTelemetry"/>), values may name JSON paths in errors.
/// A read whose region fails with an outage moves to the next of <c>failoverRegions</c> (see <see cref="RegionFailover"/>).
/// </summary>
internal sealed class SecretsManagerReader(
    AwsJsonClient client, TimeProvider time, bool versionAwareRefresh, bool namesInErrors, IReadOnlyList<string> failoverRegions, ILogger logger)
{
    public const int BatchLimit = 20;
    private const int ArnSuffixLength = 7; // "-" and six random characters

    /// <summary>
    /// Reads one secret from its region; after an outage there, from each failover region in turn. A replica's answer that
    /// is not a value (not found: not replicated there; access denied: the role may not read the replica) says nothing
    /// about the secret, so the primary's outage is what the caller gets, and the cache may serve its stale value.
    /// </summary>
    public async ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken)
    {
        var primary = reference.Region ?? client.DefaultRegion;
        var next = RegionFailover.After(primary, failoverRegions);
        try
        {
            return await FetchInAsync(reference, reference.Name, primary, current, failsOver: next.Count > 0, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception outage) when (next.Count > 0 && RegionFailover.IsOutage(outage))
        {
            for (var i = 0; i < next.Count; i++)
            {
                try
                {
                    var secret = await FetchInAsync(reference, IdIn(reference, next[i]), next[i], current, failsOver: i < next.Count - 1, cancellationToken).ConfigureAwait(false);
                    Log.FailedOver(logger, reference.ToString(), next[i], primary, SecretsCacheMetrics.ErrorTypeOf(outage));
                    return secret;
                }
                catch (Exception replicaError) when (replicaError is SecretsCacheException && !cancellationToken.IsCancellationRequested)
                {
                    if (replicaError is SecretsCacheException { IsTransient: false })
                    {
                        Log.ReplicaRefused(logger, reference.ToString(), next[i], SecretsCacheMetrics.ErrorTypeOf(replicaError));
                    }
                }
            }

            ExceptionDispatchInfo.Throw(outage);
            throw;
        }
    }

    private async ValueTask<Secret> FetchInAsync(SecretReference reference, string secretId, string region, Secret? current, bool failsOver, CancellationToken cancellationToken)
    {
        if (versionAwareRefresh && current?.VersionId is not null && reference.VersionId is null)
        {
            var stage = reference.VersionStage ?? ReferenceParser.CurrentStage;
            var currentId = await CurrentVersionIdAsync(reference, secretId, region, stage, failsOver, cancellationToken).ConfigureAwait(false);
            if (currentId is not null && string.Equals(currentId, current.VersionId, StringComparison.Ordinal))
            {
                return current; // Unchanged: the cached value stays, and no GetSecretValue is spent.
            }
        }

        var response = await client.SendAsync(
            AwsService.SecretsManager,
            region,
            "GetSecretValue",
            new GetSecretValueRequest { SecretId = secretId, VersionId = reference.VersionId, VersionStage = reference.VersionStage },
            AwsJsonContext.Default.GetSecretValueRequest,
            AwsJsonContext.Default.GetSecretValueResponse,
            reference.ToString(),
            cancellationToken,
            failsOver).ConfigureAwait(false);
        return Missing(response) is { } missing
            ? throw MalformedAnswer.Create(AwsService.SecretsManager, "GetSecretValue", reference.ToString(), missing)
            : ToSecret(response, region);
    }

    /// <summary>
    /// Reads the AWSCURRENT version of many secrets of one region, 20 a call; after an outage there, from each failover
    /// region in turn. An answer (a value or an error) is taken only when it is the one answer naming its request; ids
    /// answered not at all, or more than once, are left null for the caller to fetch one by one. A replica's batch refused
    /// as a whole (no BatchGetSecretValue permission there) leaves every id to single reads, which fail over on their own.
    /// </summary>
    public async Task<FetchOutcome?[]> FetchBatchAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken)
    {
        var primary = references[0].Region ?? client.DefaultRegion;
        var next = RegionFailover.After(primary, failoverRegions);
        try
        {
            return await FetchBatchInAsync(references, primary, failsOver: next.Count > 0, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception outage) when (next.Count > 0 && RegionFailover.IsOutage(outage))
        {
            for (var i = 0; i < next.Count; i++)
            {
                try
                {
                    var outcomes = await FetchBatchInAsync(references, next[i], failsOver: i < next.Count - 1, cancellationToken).ConfigureAwait(false);
                    Log.BatchFailedOver(logger, references.Count, next[i], primary, SecretsCacheMetrics.ErrorTypeOf(outage));

                    // A replica's "not found" is no answer about the secret (it may not be replicated there): the primary's outage stands.
                    return [.. outcomes.Select(o => o is { Error: { } error } && !RegionFailover.IsOutage(error) ? FetchOutcome.Failure(outage) : o)];
                }
                catch (Exception replicaError) when (replicaError is SecretsCacheException && !cancellationToken.IsCancellationRequested)
                {
                    if (!RegionFailover.IsOutage(replicaError))
                    {
                        if (replicaError is SecretsCacheException { IsTransient: false })
                        {
                            Log.ReplicaRefused(logger, $"a batch of {references.Count}", next[i], SecretsCacheMetrics.ErrorTypeOf(replicaError));
                        }

                        return new FetchOutcome?[references.Count]; // read one by one, each failing over on its own
                    }
                }
            }

            ExceptionDispatchInfo.Throw(outage);
            throw;
        }
    }

    private async Task<FetchOutcome?[]> FetchBatchInAsync(IReadOnlyList<SecretReference> references, string region, bool failsOver, CancellationToken cancellationToken)
    {
        var answers = new (int Count, FetchOutcome Outcome)[references.Count];
        string? nextToken = null;
        var ids = references.Select(r => IdIn(r, region)).ToList();
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
                cancellationToken,
                failsOver).ConfigureAwait(false);
            var values = response.SecretValues ?? throw MalformedAnswer.Create(AwsService.SecretsManager, "BatchGetSecretValue", null, "SecretValues");

            foreach (var value in values.Where(v => v is not null))
            {
                for (var i = 0; i < references.Count; i++)
                {
                    if (Identifies(ids[i], value.Name, value.ARN))
                    {
                        answers[i] = (answers[i].Count + 1, Missing(value) is { } missing
                            ? FetchOutcome.Failure(MalformedAnswer.Create(AwsService.SecretsManager, "BatchGetSecretValue", references[i].ToString(), missing))
                            : FetchOutcome.Success(ToSecret(value, region)));
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

    /// <summary>The secret id to send in <paramref name="region"/>: a name as it is (a replica keeps its name), an ARN with its region rewritten.</summary>
    internal static string IdIn(SecretReference reference, string region) =>
        reference.Partition is null || string.Equals(reference.Region, region, StringComparison.Ordinal) ? reference.Name : AwsArn.WithRegion(reference.Name, region);

    private async Task<string?> CurrentVersionIdAsync(SecretReference reference, string secretId, string region, string stage, bool failsOver, CancellationToken cancellationToken)
    {
        var description = await client.SendAsync(
            AwsService.SecretsManager,
            region,
            "DescribeSecret",
            new DescribeSecretRequest { SecretId = secretId },
            AwsJsonContext.Default.DescribeSecretRequest,
            AwsJsonContext.Default.DescribeSecretResponse,
            reference.ToString(),
            cancellationToken,
            failsOver).ConfigureAwait(false);

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

    private Secret ToSecret(GetSecretValueResponse response, string region) =>
        Secret.FromWire(
            response.Name!,
            response.SecretString,
            response.SecretString is null ? response.SecretBinary : null,
            time.GetUtcNow(),
            response.ARN,
            response.VersionId,
            response.VersionStages,
            showsJsonPath: namesInErrors,
            region: region);
}

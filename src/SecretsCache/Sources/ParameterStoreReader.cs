using System.Text.Json;
using SecretsCache.Aws.Contracts;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Protocol;
using SecretsCache.References;

namespace SecretsCache.Sources;

/// <summary>
/// Reads Parameter Store: GetParameter, GetParameters (10 names a call) and GetParametersByPath, always with decryption
/// (SecureString values, and the <c>/aws/reference/secretsmanager/</c> passthrough, which AWS refuses without it).
/// </summary>
internal sealed class ParameterStoreReader(AwsJsonClient client, TimeProvider time)
{
    public const int BatchLimit = 10;
    private const int MaxPathPages = 10_000; // 100,000 parameters: the advanced-tier limit per account and region.

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
        return result.Parameter is { } parameter
            ? ToSecret(parameter, reference)
            : throw new SecretNotFoundException($"AWS Parameter Store returned no parameter for '{reference}'.", reference.ToString(), "ParameterNotFound");
    }

    /// <summary>Reads up to 10 parameters of one region in one call. Names AWS lists as invalid are not found; unanswered ones stay null.</summary>
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

        var outcomes = new FetchOutcome?[references.Count];
        foreach (var parameter in result.Parameters ?? [])
        {
            var selector = parameter.Selector ?? string.Empty;
            for (var i = 0; i < references.Count; i++)
            {
                if (outcomes[i] is null && (names[i] == parameter.Name + selector || names[i] == parameter.ARN + selector))
                {
                    outcomes[i] = FetchOutcome.Success(ToSecret(parameter, references[i]));
                }
            }
        }

        foreach (var invalid in result.InvalidParameters ?? [])
        {
            var index = names.IndexOf(invalid);
            if (index >= 0)
            {
                outcomes[index] = FetchOutcome.Failure(new SecretNotFoundException(
                    $"AWS Parameter Store has no '{references[index]}' (listed in InvalidParameters).", references[index].ToString(), "ParameterNotFound"));
            }
        }

        return outcomes;
    }

    /// <summary>Reads every parameter under a path, following NextToken (bounded).</summary>
    public async Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken)
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
            foreach (var parameter in result.Parameters ?? [])
            {
                if (parameter.Name is not null)
                {
                    secrets.Add(ToSecret(parameter, null));
                }
            }

            nextToken = string.IsNullOrEmpty(result.NextToken) ? null : result.NextToken;
        }
        while (nextToken is not null && ++pages < MaxPathPages);

        return secrets;
    }

    /// <summary>The Name sent to AWS: the name or ARN, then <c>:version</c>, <c>:label</c>, or the passthrough's <c>:stage</c>/<c>:versionId</c>.</summary>
    internal static string RequestName(SecretReference reference) =>
        reference.ParameterSelector is { } selector ? reference.Name + ":" + selector : reference.Name;

    private Secret ToSecret(Parameter parameter, SecretReference? reference)
    {
        var name = parameter.Name ?? reference?.Name ?? string.Empty;
        var value = parameter.Value ?? string.Empty;
        if (reference is { IsPassthrough: true })
        {
            // The passthrough answers with the secret's DescribeSecret document, which says which version was read.
            var (arn, versionId, stages) = DescribePassthrough(parameter.SourceResult, reference);
            return Secret.FromWire(name, value, null, time.GetUtcNow(), arn ?? parameter.ARN, versionId, stages);
        }

        return Secret.FromWire(name, value, null, time.GetUtcNow(), parameter.ARN, parameterVersion: parameter.Version);
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

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Aws.Protocol;
using SecretsCache.Composition;

namespace SecretsCache.Sources;

/// <summary>
/// Routes references to Secrets Manager or Parameter Store and splits batches into the fewest calls the APIs allow:
/// BatchGetSecretValue for current versions (20 a call), GetParameters (10 a call), grouped by region, run concurrently
/// (the rate limiter paces them). Anything a batch cannot answer is fetched one by one, and so is a chunk of secrets whose
/// batch budget would make it wait when single reads would load it sooner (see <see cref="Resilience.CallPolicy.PreferBatch"/>).
/// </summary>
internal sealed partial class AwsSecretSource : ISecretSource, IDisposable
{
    private readonly AwsJsonClient _client;
    private readonly SecretsManagerReader _secretsManager;
    private readonly ParameterStoreReader _parameterStore;

    public AwsSecretSource(AwsJsonClient client, TimeProvider time, SecretsCacheSettings settings, ILogger? logger = null)
    {
        _client = client;
        _secretsManager = new SecretsManagerReader(
            client, time, settings.Aws.VersionAwareRefresh, settings.Cache.IncludeNamesInTelemetry, settings.Aws.FailoverRegions, logger ?? NullLogger.Instance);
        _parameterStore = new ParameterStoreReader(client, time, settings.Cache.IncludeNamesInTelemetry);
        _failoverRegions = settings.Aws.FailoverRegions;
    }

    public ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken) =>
        reference.Store == SecretStore.SecretsManager
            ? _secretsManager.FetchAsync(reference, current, cancellationToken)
            : _parameterStore.FetchAsync(reference, cancellationToken);

    public async ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken)
    {
        var outcomes = new FetchOutcome?[references.Count];
        var batches = new List<(int[] Indexes, SecretStore Store)>();
        var indexes = Enumerable.Range(0, references.Count).ToList();

        // BatchGetSecretValue reads only AWSCURRENT: references pinned to a stage or version id go one by one.
        foreach (var group in indexes.Where(i => references[i].Store == SecretStore.SecretsManager && references[i].VersionStage is null && references[i].VersionId is null)
                     .GroupBy(i => references[i].Region))
        {
            batches.AddRange(group.Chunk(SecretsManagerReader.BatchLimit).Select(chunk => (chunk, SecretStore.SecretsManager)));
        }

        foreach (var group in indexes.Where(i => references[i].Store == SecretStore.ParameterStore).GroupBy(i => references[i].Region))
        {
            batches.AddRange(group.Chunk(ParameterStoreReader.BatchLimit).Select(chunk => (chunk, SecretStore.ParameterStore)));
        }

        await Task.WhenAll(batches.Select(async batch =>
        {
            try
            {
                if (batch.Store == SecretStore.SecretsManager && !_client.Policy.PreferBatch(batch.Indexes.Length, references[batch.Indexes[0]].Region ?? _client.DefaultRegion))
                {
                    return; // read one by one below, under GetSecretValue's budget
                }

                var chunk = batch.Indexes.Select(i => references[i]).ToList();
                var results = await (batch.Store == SecretStore.SecretsManager
                    ? _secretsManager.FetchBatchAsync(chunk, cancellationToken)
                    : _parameterStore.FetchBatchAsync(chunk, cancellationToken)).ConfigureAwait(false);
                for (var j = 0; j < batch.Indexes.Length; j++)
                {
                    outcomes[batch.Indexes[j]] = results[j];
                }
            }
            catch (Exception ex) when (ex is SecretAccessDeniedException or SecretRequestException)
            {
                // Batch calls need their own permission (secretsmanager:BatchGetSecretValue): without it, fall back to single reads.
            }
            catch (SecretThrottledException ex) when (ex.ErrorCode == Resilience.RetryPipelineFactory.ClientRateLimited && batch.Store == SecretStore.SecretsManager)
            {
                // The batch budget refused it (fail-fast, a full queue, or a fleet's batch queue too long): read one by one,
                // under GetSecretValue's own budget.
            }
            catch (SecretsCacheException ex)
            {
                foreach (var i in batch.Indexes)
                {
                    outcomes[i] = FetchOutcome.Failure(ex);
                }
            }
        })).ConfigureAwait(false);

        // Whatever no batch answered (pinned versions, ids a batch did not echo) is fetched singly.
        await Task.WhenAll(indexes.Where(i => outcomes[i] is null).Select(async i =>
        {
            try
            {
                outcomes[i] = FetchOutcome.Success(await FetchAsync(references[i], null, cancellationToken).ConfigureAwait(false));
            }
            catch (SecretsCacheException ex)
            {
                outcomes[i] = FetchOutcome.Failure(ex);
            }
        })).ConfigureAwait(false);

        return outcomes.Select(o => o!.Value).ToList();
    }

    public Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken) =>
        _parameterStore.FetchPathAsync(path, recursive, cancellationToken);

    public void Dispose() => _client.Dispose();
}

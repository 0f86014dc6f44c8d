using System.Collections.Concurrent;
using SecretsCache.Diagnostics;
using SecretsCache.References;
using SecretsCache.Resilience;

namespace SecretsCache.Caching;

/// <summary>
/// Parameter Store path listings: single-flight per (path, recursive), run like any fetch on the engine's token within
/// <see cref="SecretsCacheOptions.FetchTimeout"/>, counted and traced; callers wait with their own token. Each parameter
/// listed primes its own entry.
/// </summary>
internal sealed partial class CacheEngine
{
    private readonly ConcurrentDictionary<(string Path, bool Recursive), Lazy<Task<IReadOnlyDictionary<string, Secret>>>> _pathFetches = new();

    public Task<IReadOnlyDictionary<string, Secret>> GetPathAsync(string path, bool recursive, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        var normalized = ReferenceParser.ParsePath(path, out var error) ?? throw new ArgumentException(error, nameof(path));
        // Lazy makes the listing single-flight: GetOrAdd may build two values under contention, but only one is ever started.
        var fetch = _pathFetches.GetOrAdd((normalized, recursive), static (key, engine) => new(() => engine.FetchPathAsync(key.Path, key.Recursive)), this);
        return fetch.Value.WaitAsync(cancellationToken);
    }

    private async Task<IReadOnlyDictionary<string, Secret>> FetchPathAsync(string path, bool recursive)
    {
        var tags = TelemetryTags.ForPath(path, _options.IncludeNamesInTelemetry);
        var started = _time.GetTimestamp();
        using var activity = SecretsCacheActivities.StartPathFetch(in tags);
        SecretsCacheMetrics.Add(_metrics.Fetches, in tags);
        try
        {
            await Task.Yield(); // Leave GetOrAdd before doing I/O.
            using var deadline = new DeadlineToken(_options.FetchTimeout, _time, _disposed.Token);
            IReadOnlyList<Secret> secrets;
            try
            {
                secrets = await _source.FetchPathAsync(path, recursive, deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (deadline.TimedOut(_disposed.Token))
            {
                throw new SecretServiceUnavailableException(
                    $"Listing the Parameter Store path '{path}' did not finish within FetchTimeout ({_options.FetchTimeout.TotalSeconds:0.###} s); raise FetchTimeout for a longer listing.",
                    "ssm:" + path,
                    TimeoutCodes.FetchTimeout);
            }

            var byName = new Dictionary<string, Secret>(secrets.Count, StringComparer.Ordinal);
            foreach (var secret in secrets)
            {
                byName[secret.Name] = secret;
                if (SecretReference.TryParse(ReferenceParser.ParameterStoreScheme + secret.Name, out var reference))
                {
                    Prime(reference, secret);
                }
            }

            return byName;
        }
        catch (Exception ex)
        {
            _metrics.RecordFetchError(in tags, ex);
            SecretsCacheActivities.Fail(activity, ex);
            throw;
        }
        finally
        {
            _metrics.FetchDuration.Record(_time.GetElapsedTime(started).TotalSeconds, in tags);
            _pathFetches.TryRemove((path, recursive), out _);
        }
    }
}

using System.Collections.Concurrent;
using SecretsCache.Sources;

namespace SecretsCache.Tests.Rotation.Support;

/// <summary>
/// An in-memory Secrets Manager with versions and staging labels: unique version ids, AWSCURRENT moves leave AWSPREVIOUS behind,
/// reads by stage or version id, per-reference call counts, a gate that holds fetches, and injected failures.
/// </summary>
internal sealed class StagedSecretSource(TimeProvider time) : ISecretSource
{
    private readonly object _lock = new();
    private readonly Dictionary<string, List<Version>> _secrets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private int _nextId;
    private int _total;
    private volatile TaskCompletionSource? _gate;

    /// <summary>When set, decides per fetch whether to fail instead of answering.</summary>
    public Func<SecretReference, Exception?>? Fail { get; set; }

    public int TotalCalls => Volatile.Read(ref _total);

    /// <summary>Fetches of one reference, by any spelling.</summary>
    public int Calls(string reference) => _calls.GetValueOrDefault(SecretReference.Parse(reference).CanonicalText);

    /// <summary>Adds a version with the given labels (AWSCURRENT when none) and returns its id.</summary>
    public string Put(string name, string value, params string[] stages)
    {
        lock (_lock)
        {
            if (!_secrets.TryGetValue(name, out var versions))
            {
                _secrets[name] = versions = [];
            }

            var version = new Version($"ver-{++_nextId:D4}-{Guid.NewGuid():N}", value);
            versions.Add(version);
            foreach (var stage in stages.Length == 0 ? ["AWSCURRENT"] : stages)
            {
                Attach(versions, version, stage);
            }

            return version.Id;
        }
    }

    /// <summary>Moves a label to a version (AWSCURRENT leaves AWSPREVIOUS on the version it left).</summary>
    public void MoveStage(string name, string stage, string versionId)
    {
        lock (_lock)
        {
            var versions = _secrets[name];
            Attach(versions, versions.Single(v => v.Id == versionId), stage);
        }
    }

    public void RemoveStage(string name, string stage)
    {
        lock (_lock)
        {
            foreach (var version in _secrets[name])
            {
                version.Stages.Remove(stage);
            }
        }
    }

    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release()
    {
        var gate = _gate;
        _gate = null;
        gate?.TrySetResult();
    }

    public async ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _total);
        _calls.AddOrUpdate(reference.CanonicalText, 1, static (_, n) => n + 1);
        if (_gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return Answer(reference);
    }

    public Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Rotation tests list no paths.");

    public async ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken)
    {
        var outcomes = new List<FetchOutcome>();
        foreach (var reference in references)
        {
            try
            {
                outcomes.Add(FetchOutcome.Success(await FetchAsync(reference, null, cancellationToken)));
            }
            catch (Exception ex)
            {
                outcomes.Add(FetchOutcome.Failure(ex));
            }
        }

        return outcomes;
    }

    private Secret Answer(SecretReference reference)
    {
        if (Fail?.Invoke(reference) is { } error)
        {
            throw error;
        }

        lock (_lock)
        {
            var stage = reference.VersionStage ?? (reference.VersionId is null ? "AWSCURRENT" : null);
            var version = _secrets.GetValueOrDefault(reference.Name)?.FirstOrDefault(v =>
                reference.VersionId is not null ? v.Id == reference.VersionId : v.Stages.Contains(stage!))
                ?? throw new SecretNotFoundException($"'{reference}' was not found.", reference.ToString(), "ResourceNotFoundException");
            return new Secret(reference.Name, version.Value)
            {
                VersionId = version.Id,
                VersionStages = [.. version.Stages],
                FetchedAt = time.GetUtcNow(),
            };
        }
    }

    private static void Attach(List<Version> versions, Version target, string stage)
    {
        var holder = versions.FirstOrDefault(v => v.Stages.Contains(stage));
        if (holder == target)
        {
            return;
        }

        if (holder is not null)
        {
            holder.Stages.Remove(stage);
            if (stage == "AWSCURRENT")
            {
                foreach (var v in versions)
                {
                    v.Stages.Remove("AWSPREVIOUS");
                }

                holder.Stages.Add("AWSPREVIOUS");
            }
        }

        target.Stages.Add(stage);
    }

    private sealed record Version(string Id, string Value)
    {
        public HashSet<string> Stages { get; } = new(StringComparer.Ordinal);
    }
}

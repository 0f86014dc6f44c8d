using System.Collections.Concurrent;
using SecretsCache.Sources;

namespace SecretsCache.Tests.Fakes;

/// <summary>
/// An in-memory source with the knobs the engine tests need: values per reference, a version counter, call counts,
/// an optional gate that holds fetches until released, and injected failures.
/// </summary>
internal sealed class FakeSecretSource(TimeProvider? time = null) : ISecretSource
{
    private readonly ConcurrentDictionary<string, (string Value, int Version)> _values = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, int> _fetchesByKey = new(StringComparer.Ordinal);
    private int _calls;
    private int _batchCalls;
    private volatile TaskCompletionSource? _gate;

    /// <summary>Single fetches started (counted before any hold).</summary>
    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Batch fetches started (counted before any hold).</summary>
    public int BatchCalls => Volatile.Read(ref _batchCalls);

    /// <summary>When set, decides per fetch whether to fail instead of answering.</summary>
    public Func<SecretReference, Exception?>? Fail { get; set; }

    /// <summary>What <see cref="CannotAnswerWithin"/> says, given the reference and the wait asked about (null: it can answer).</summary>
    public Func<SecretReference, TimeSpan, bool>? CannotAnswer { get; set; }

    public bool CannotAnswerWithin(SecretReference reference, TimeSpan wait) => CannotAnswer?.Invoke(reference, wait) ?? false;

    /// <summary>What <see cref="KnownFailing"/> says (null: not failing).</summary>
    public Func<SecretReference, bool>? Failing { get; set; }

    public bool KnownFailing(SecretReference reference) => Failing?.Invoke(reference) ?? false;

    /// <summary>What <see cref="NextOutage"/> says (null: the source cannot tell).</summary>
    public Func<SecretReference, Task?>? Outages { get; set; }

    public Task? NextOutage(SecretReference reference) => Outages?.Invoke(reference);

    /// <summary>When true, each fetch yields to the thread pool before answering, so it completes on another thread.</summary>
    public bool AnswerAsynchronously { get; set; }

    /// <summary>The tokens fetches were given, to prove a caller's cancellation never reaches the shared fetch.</summary>
    public ConcurrentBag<CancellationToken> Tokens { get; } = [];

    /// <summary>The references of each batch call, in call order.</summary>
    public ConcurrentQueue<IReadOnlyList<SecretReference>> Batches { get; } = new();

    /// <summary>How many times one reference was fetched, singly or as an item of a batch.</summary>
    public int FetchesOf(string reference) =>
        _fetchesByKey.TryGetValue(SecretReference.Parse(reference).CanonicalText, out var count) ? count : 0;

    public void Set(string reference, string value)
    {
        var key = SecretReference.Parse(reference).CanonicalText;
        _values.AddOrUpdate(key, (value, 1), (_, old) => (value, old.Version + 1));
    }

    /// <summary>Deletes a value: later fetches answer not-found.</summary>
    public void Remove(string reference) => _values.TryRemove(SecretReference.Parse(reference).CanonicalText, out _);

    /// <summary>Holds every fetch until <see cref="Release"/>.</summary>
    public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Release() => _gate?.TrySetResult();

    public async ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        _fetchesByKey.AddOrUpdate(reference.CanonicalText, 1, (_, n) => n + 1);
        Tokens.Add(cancellationToken);
        if (_gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (AnswerAsynchronously)
        {
            await Task.Yield();
        }

        return Answer(reference);
    }

    public async ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _batchCalls);
        Batches.Enqueue(references.ToArray());
        foreach (var reference in references)
        {
            _fetchesByKey.AddOrUpdate(reference.CanonicalText, 1, (_, n) => n + 1);
        }

        Tokens.Add(cancellationToken);
        if (_gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        if (AnswerAsynchronously)
        {
            await Task.Yield();
        }

        return references.Select(r =>
        {
            try
            {
                return FetchOutcome.Success(Answer(r));
            }
            catch (Exception ex)
            {
                return FetchOutcome.Failure(ex);
            }
        }).ToList();
    }

    /// <summary>Path listings started (counted before any hold).</summary>
    public int PathCalls => Volatile.Read(ref _pathCalls);

    private int _pathCalls;

    /// <summary>Lists the Parameter Store values whose name starts with <paramref name="path"/>, honouring the hold and the token.</summary>
    public async Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _pathCalls);
        Tokens.Add(cancellationToken);
        if (_gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return _values.Where(pair => pair.Key.StartsWith("ssm:" + path, StringComparison.Ordinal))
            .Select(pair => new Secret(pair.Key["ssm:".Length..], pair.Value.Value) { ParameterVersion = pair.Value.Version })
            .ToList();
    }

    private Secret Answer(SecretReference reference)
    {
        if (Fail?.Invoke(reference) is { } error)
        {
            throw error;
        }

        if (!_values.TryGetValue(reference.CanonicalText, out var entry))
        {
            throw new SecretNotFoundException($"'{reference}' was not found.", reference.ToString(), "ResourceNotFoundException");
        }

        return new Secret(reference.Name, entry.Value)
        {
            VersionId = $"v{entry.Version}",
            VersionStages = ["AWSCURRENT"],
            FetchedAt = (time ?? TimeProvider.System).GetUtcNow(),
        };
    }
}

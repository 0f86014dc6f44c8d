using SecretsCache.Sources;

namespace SecretsCache.Benchmarks;

/// <summary>A source that answers at once with a fixed value, or (when held) never, so a refresh stays in flight.</summary>
internal sealed class StaticSource : ISecretSource
{
    private readonly TaskCompletionSource<Secret> _never = new();

    public bool Hold { get; set; }

    public ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken) =>
        Hold ? new ValueTask<Secret>(_never.Task) : new ValueTask<Secret>(new Secret(reference.Name, "value-of-" + reference.Name));

    public Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken) =>
        throw new NotSupportedException("The benchmark sources read no paths.");

    public ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken) =>
        new(references.Select(r => FetchOutcome.Success(new Secret(r.Name, "value-of-" + r.Name))).ToList());
}

/// <summary>
/// A clock the benchmark moves by hand (to put an entry inside its refresh-ahead window). Not Microsoft's FakeTimeProvider:
/// that one takes a lock and looks for due timers on every read, a cost the measured hot path would carry.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Volatile.Read(ref _ticks);

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(Volatile.Read(ref _ticks));

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}

using SecretsCache.Composition;
using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.Composition;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Lease;
using SecretsCache.Sources;

namespace SecretsCache.Redis.ReadThrough;

/// <summary>
/// The read-through second level: the engine's source, in front of the AWS source. An L1 miss reads Redis, then takes the
/// key's fleet-wide lease and fetches from AWS (or waits for the instance that holds it); every AWS fetch writes Redis.
/// Why the engine fetches decides what may answer (<see cref="FetchReason"/>): a refresh-ahead takes only an entry newer than
/// the one it holds (else it refreshes the entry for the fleet, as lease holder); a forced refresh (rotation, an
/// authentication failure, <c>RefreshAsync</c>) goes to AWS and overwrites the entry. A version seen to change at AWS, and
/// every forced refresh, is published on the backplane. A refresh-ahead that comes due while Redis is known to be down
/// waits for it to come back (for at most half of what is left of the value's freshness), so that after a restart one
/// instance per key fetches instead of every instance; the held value is served meanwhile. The encryption key and password
/// secrets never pass through here. Until the level is up (connecting, or the key secret not read yet), this is the AWS
/// source. Refresh-aheads and re-reads after a backplane message go through the single-flight in waves
/// (<see cref="SingleFlightWaves"/>): the keys of an instance that come due together take each Redis step once.
/// </summary>
internal sealed class SecondLevelSource : ISecretSource, IDisposable
{
    private readonly ISecretSource _inner;
    private readonly RedisComposition _fleet;
    private readonly CacheSettings _cache;

    public SecondLevelSource(ISecretSource inner, RedisComposition fleet, CacheSettings cache)
    {
        _inner = inner;
        _fleet = fleet;
        _cache = cache;
    }

    public ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, CancellationToken cancellationToken) =>
        FetchAsync(reference, current, FetchReason.Read, cancellationToken);

    public async ValueTask<Secret> FetchAsync(SecretReference reference, Secret? current, FetchReason reason, CancellationToken cancellationToken)
    {
        if (_fleet.Level is not { } level || _fleet.IsExempt(reference))
        {
            return await _inner.FetchAsync(reference, current, reason, cancellationToken).ConfigureAwait(false);
        }

        var key = reference.CanonicalText;
        var ttl = TtlOf(key);
        level.Backplane.Track(key, _fleet.HeldByEngine);
        await _fleet.Removals.WaitAsync(key, cancellationToken).ConfigureAwait(false);
        var deferral = reason == FetchReason.RefreshAhead && current is not null ? RefreshDeferral(_fleet.FreshFor(key)) : TimeSpan.Zero;
        if (deferral > TimeSpan.Zero && level.Connection.Watch.IsDown)
        {
            // Nobody waits on a refresh-ahead and the value is still fresh: without Redis every instance would fetch it.
            await level.WaitUntilUpAsync(deferral, cancellationToken).ConfigureAwait(false);
            deferral = TimeSpan.Zero;
        }

        if (reason == FetchReason.Forced)
        {
            var fetched = await _inner.FetchAsync(reference, current, reason, cancellationToken).ConfigureAwait(false);
            await level.Store.WriteAsync(key, Confirmed(fetched, current, level), ttl, CancellationToken.None).ConfigureAwait(false);
            Announce(level, key, current, fetched, forced: true);
            return fetched;
        }

        // A refresh-ahead wants a value fresher than its own (a condition Redis checks too, so its first step takes the lease);
        // an announcement, a version other than its own.
        var fetchedAfter = reason == FetchReason.RefreshAhead ? current?.FetchedAt : null;
        Func<L2Entry, bool>? accept = reason == FetchReason.Announced && current is not null
            ? e => !string.Equals(e.Version, current.Version, StringComparison.Ordinal)
            : null;
        var fromAws = false;
        async ValueTask<Secret> FetchFromAwsAsync(CancellationToken token)
        {
            fromAws = true;
            var fetched = await _inner.FetchAsync(reference, current, reason, token).ConfigureAwait(false);
            return Confirmed(fetched, current, level);
        }

        // Nobody waits on a refresh-ahead or a re-read after a message: those of this instance go in waves. A refresh-ahead
        // that Redis did not answer (a busy moment, in this process or in Redis), or whose holder's wait brought nothing,
        // asks again after the deferral instead of going to AWS at once: its value stays fresh until then, and the fleet's
        // other instances, in the same moment, would each fetch it too.
        FleetRead read;
        if (reason is FetchReason.RefreshAhead or FetchReason.Announced && current is not null)
        {
            var mayDefer = deferral >= MinimumDeferral(level);
            if (await level.Waves.JoinAsync(new FleetFetch(key, ttl, FetchFromAwsAsync, accept, cancellationToken, fetchedAfter, mayDefer)).ConfigureAwait(false) is { } first)
            {
                read = first;
            }
            else
            {
                RedisL2Metrics.Add(level.Connection.Metrics.DeferredRefreshes);
                await Task.Delay(deferral, level.Connection.Time, cancellationToken).ConfigureAwait(false);
                read = await level.Waves.JoinAsync(new FleetFetch(key, ttl, FetchFromAwsAsync, accept, cancellationToken, fetchedAfter)).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("A fetch that may not be deferred was deferred.");
            }
        }
        else
        {
            read = await level.SingleFlight.GetOrFetchAsync(key, ttl, FetchFromAwsAsync, accept, cancellationToken).ConfigureAwait(false);
        }

        var secret = read.Entry.Secret;
        if (read.Source == FleetSource.Aws && fromAws)
        {
            if (current is not null && secret.Version == current.Version && secret.HasSameValue(current))
            {
                secret = current; // AWS confirmed what is cached (DescribeSecret): the engine keeps its value, counted from now.
            }

            if (reason != FetchReason.Announced)
            {
                Announce(level, key, current, secret, forced: false);
            }
        }

        return secret;
    }

    /// <summary>
    /// The AWS source's answer: a read the engine gives up waiting on still runs (and reads Redis first), so a value another
    /// instance wrote lands in the background; what decides whether a stale reader waits is whether AWS can answer in time.
    /// </summary>
    public bool CannotAnswerWithin(SecretReference reference, TimeSpan wait) => _inner.CannotAnswerWithin(reference, wait);

    /// <summary>The AWS source's, as <see cref="CannotAnswerWithin"/>.</summary>
    public bool KnownFailing(SecretReference reference) => _inner.KnownFailing(reference);

    /// <summary>
    /// A value of a key the fleet shares, while Redis is up, refreshes on the fleet's schedule
    /// (<see cref="RedisL2Options.RefreshAheadFraction"/>, a point its key gives, with no random jitter): the same moment on every instance, so one of them takes
    /// the lease and fetches, and the others read what it wrote. Jitter would undo that: the fleet would refresh when its
    /// earliest instance does, more often the larger it grows.
    /// </summary>
    public double? SharedRefreshAheadFraction(SecretReference reference) =>
        _fleet.Level is { } level && level.Connection.Multiplexer.IsConnected && !_fleet.IsExempt(reference)
            ? _fleet.RefreshAheadFraction
            : _inner.SharedRefreshAheadFraction(reference);

    /// <summary>The AWS source's, for the same reason as <see cref="CannotAnswerWithin"/>.</summary>
    public Task? NextOutage(SecretReference reference) => _inner.NextOutage(reference);

    public async ValueTask<IReadOnlyList<FetchOutcome>> FetchManyAsync(IReadOnlyList<SecretReference> references, CancellationToken cancellationToken)
    {
        if (_fleet.Level is not { } level)
        {
            return await _inner.FetchManyAsync(references, cancellationToken).ConfigureAwait(false);
        }

        return await new BatchReadThrough(this, level, references).RunAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task<IReadOnlyList<Secret>> FetchPathAsync(string path, bool recursive, CancellationToken cancellationToken) =>
        _inner.FetchPathAsync(path, recursive, cancellationToken); // A listing is not a value of one key: it is not shared.

    public void Dispose()
    {
        _fleet.Dispose();
        (_inner as IDisposable)?.Dispose();
    }

    internal ISecretSource Inner => _inner;

    internal RedisComposition Fleet => _fleet;

    internal TimeSpan TtlOf(string canonicalKey) =>
        _cache.TtlByKey.Count != 0 && _cache.TtlByKey.TryGetValue(canonicalKey, out var configured) ? configured : _cache.DefaultTtl;

    /// <summary>
    /// How long a refresh-ahead may wait for Redis: half of the time the value the engine holds stays fresh
    /// (<paramref name="freshFor"/>, which knows the schedule it was given; null, when the engine holds none, is no wait),
    /// and half of the fetch's budget, so the fetch itself still has the other half before the value expires or the fetch
    /// times out.
    /// </summary>
    internal TimeSpan RefreshDeferral(TimeSpan? freshFor)
    {
        var wait = TimeSpan.FromTicks(Math.Min((freshFor ?? TimeSpan.Zero).Ticks, _cache.FetchTimeout.Ticks) / 2);
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    /// <summary>
    /// The shortest deferral worth a second attempt through Redis: two operation timeouts (a step and the one it may ask
    /// again); a refresh with less freshness left goes to AWS when Redis does not answer.
    /// </summary>
    private static TimeSpan MinimumDeferral(RedisSecondLevel level) => level.Connection.Options.OperationTimeout * 2;

    /// <summary>
    /// What the second level should hold after a fetch: AWS's answer, or, when AWS only confirmed the value held (the source
    /// returned <paramref name="current"/> itself after a DescribeSecret), that value as fetched now.
    /// </summary>
    internal static Secret Confirmed(Secret fetched, Secret? current, RedisSecondLevel level) =>
        ReferenceEquals(fetched, current) ? FetchedNow(fetched, level.Connection.Time.GetUtcNow()) : fetched;

    /// <summary>Publishes a version seen to change at AWS (<see cref="BackplaneKind.Changed"/>), or a forced refresh (<see cref="BackplaneKind.Refreshed"/>). In the background; never throws.</summary>
    internal static void Announce(RedisSecondLevel level, string key, Secret? current, Secret fetched, bool forced)
    {
        var changed = current is not null && !string.Equals(current.Version, fetched.Version, StringComparison.Ordinal);
        if (changed || forced)
        {
            _ = level.Backplane.PublishAsync(changed ? BackplaneKind.Changed : BackplaneKind.Refreshed, [(key, fetched.Version)], CancellationToken.None).AsTask();
        }
    }

    private static Secret FetchedNow(Secret secret, DateTimeOffset now) => secret.IsBinary
        ? Secret.FromWire(secret.Name, null, secret.GetBytes().ToArray(), now, secret.Arn, secret.VersionId, secret.VersionStages, secret.ParameterVersion, secret.ShowsJsonPath, secret.Region)
        : Secret.FromWire(secret.Name, secret.GetString(), null, now, secret.Arn, secret.VersionId, secret.VersionStages, secret.ParameterVersion, secret.ShowsJsonPath, secret.Region);
}

using SecretsCache.Diagnostics;

namespace SecretsCache.Caching;

/// <summary>
/// After a snapshot restore (AWS Lambda SnapStart): every value's timestamps move onto the restored clock, and each value gets
/// a schedule with new jitter; values at least <see cref="SnapshotOptions.MaxAgeAfterRestore"/> old expire at once.
/// </summary>
internal sealed partial class CacheEngine
{
    /// <summary>A wall-clock jump smaller than this against the engine clock is drift (NTP slewing), not a stored snapshot.</summary>
    internal static readonly TimeSpan MissedTimeTolerance = TimeSpan.FromSeconds(1);

    private readonly object _restoreGate = new();
    private ClockReading _lastReading;

    /// <summary>
    /// Moves every value onto the restored clock and reschedules it. A value at least <paramref name="maxAge"/> old (counting the
    /// time the snapshot was stored) expires now: the first read fetches it again, and meanwhile, as any expired value, it may
    /// be served stale until its own staleness bound (restoring never extends it). A younger value keeps its TTL from its
    /// fetch, with jitter drawn again (which only shortens it). Failures seen before the snapshot (backoff, cached not-found)
    /// are forgotten: they said nothing about the network after the restore. Entries with a fetch under way are left to
    /// that fetch, which stores a value with a fresh schedule; reads may run throughout.
    /// </summary>
    public RestoreOutcome OnSnapshotRestored(TimeSpan maxAge)
    {
        ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);
        lock (_restoreGate)
        {
            var reading = ReadClocks();
            var now = reading.Engine;
            var missed = MissedSince(_lastReading, reading);
            _lastReading = reading;
            var shift = _policy.Ticks(missed);
            var bound = _policy.Ticks(maxAge);
            int expired = 0, rescheduled = 0, skipped = 0, forgotten = 0;
            foreach (var entry in Entries())
            {
                lock (entry.Gate)
                {
                    if (entry.Evicted || entry.InFlight is not null)
                    {
                        skipped++;
                        continue;
                    }

                    if (entry.Failure is not null)
                    {
                        entry.Failure = null;
                        forgotten++;
                    }

                    if (entry.Value is not { } value)
                    {
                        continue;
                    }

                    var fetchedAt = value.FetchedAt - shift;
                    if (now - fetchedAt >= bound)
                    {
                        var expiresAt = Math.Min(value.ExpiresAt - shift, now);
                        SetValue(entry, value with { FetchedAt = fetchedAt, RefreshAt = expiresAt, ExpiresAt = expiresAt, StaleUntil = value.StaleUntil - shift });
                        expired++;
                    }
                    else
                    {
                        var (refreshAt, expiresAt, staleUntil) = Schedule(entry, fetchedAt);
                        SetValue(entry, value with { FetchedAt = fetchedAt, RefreshAt = refreshAt, ExpiresAt = expiresAt, StaleUntil = staleUntil });
                        rescheduled++;
                    }
                }
            }

            var outcome = new RestoreOutcome(expired, rescheduled, skipped, forgotten, missed);
            Log.SnapshotRestored(_logger, expired, rescheduled, skipped, forgotten, missed.TotalSeconds, maxAge.TotalSeconds);
            return outcome;
        }
    }

    /// <summary>The cached value of a reference, if any (for tests of schedules).</summary>
    internal CachedValue? ValueOf(string text) => TryGetByCanonical(SecretReference.Parse(text).CanonicalText, out var entry) ? entry.Value : null;

    /// <summary>Where the engine clock and the wall clock stood, so a restore can tell how much time the engine clock did not count.</summary>
    private ClockReading ReadClocks() => new(_time.GetUtcNow(), _clock.Now());

    /// <summary>
    /// How much more time the wall clock counted than the engine's monotonic clock since <paramref name="before"/>: the time a
    /// snapshot was stored, when the restored machine's monotonic clock did not count it (zero when it did).
    /// </summary>
    private TimeSpan MissedSince(ClockReading before, ClockReading after)
    {
        var missed = (after.Wall - before.Wall) - _policy.Duration(after.Engine - before.Engine);
        return missed > MissedTimeTolerance ? missed : TimeSpan.Zero;
    }

    private readonly record struct ClockReading(DateTimeOffset Wall, long Engine);
}

/// <summary>What a snapshot restore did: values expired and rescheduled, entries left to a fetch under way, failures forgotten, and the time the engine clock missed.</summary>
internal readonly record struct RestoreOutcome(int Expired, int Rescheduled, int Skipped, int FailuresForgotten, TimeSpan MissedTime);

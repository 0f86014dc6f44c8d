using System.Collections.Concurrent;
using SecretsCache.Aws.Endpoints;

namespace SecretsCache.Resilience;

/// <summary>
/// The outcome of the last attempt sent to each service and region: an outage (5xx, an attempt timeout, a connection
/// failure, a malformed answer; see <see cref="RegionFailover.IsOutage"/>) or an answer (a value, or an error that is the
/// service answering: not found, access denied, throttling). The breaker needs ten calls in ten seconds before it opens;
/// this knows from the first failed attempt, so a caller holding a stale value need not wait for a refresh that the
/// instance already expects to fail. An outage is remembered for <c>memory</c> at most: with no attempt since, it is old news.
/// Readers already waiting learn of an outage through <see cref="NextOutage"/>.
/// </summary>
internal sealed class ServiceHealth(TimeProvider time, TimeSpan memory)
{
    private const long Answered = long.MinValue;
    private readonly ConcurrentDictionary<(AwsService, string), Cell> _last = new();

    /// <summary>Records an attempt's outcome: <paramref name="error"/> null for an answer with a value.</summary>
    public void Record(AwsService service, string region, Exception? error)
    {
        long outcome;
        if (error is null || (error is SecretsCacheException && !RegionFailover.IsOutage(error)))
        {
            outcome = Answered;
        }
        else if (RegionFailover.IsOutage(error))
        {
            outcome = time.GetTimestamp();
        }
        else
        {
            return; // cancelled, or a bug of ours: says nothing about the service
        }

        var cell = CellOf(service, region);
        Volatile.Write(ref cell.OutageAt, outcome);
        if (outcome != Answered)
        {
            Signal(cell); // after the write: a woken reader that asks LastAttemptFailed sees this outage
        }
    }

    /// <summary>The breaker of <paramref name="service"/> in <paramref name="region"/> opened: wakes the readers waiting on <see cref="NextOutage"/>.</summary>
    public void BreakerOpened(AwsService service, string region) => Signal(CellOf(service, region));

    /// <summary>True when the last attempt to <paramref name="service"/> in <paramref name="region"/> was an outage, within the memory.</summary>
    public bool LastAttemptFailed(AwsService service, string region)
    {
        if (!_last.TryGetValue((service, region), out var cell))
        {
            return false;
        }

        var at = Volatile.Read(ref cell.OutageAt);
        return at != Answered && time.GetElapsedTime(at) < memory;
    }

    /// <summary>
    /// Completes at the next outage recorded for <paramref name="service"/> in <paramref name="region"/>, or the next opening
    /// of its breaker. One task per service and region, shared by every waiter and replaced once completed; made only when
    /// someone asks (a reader waiting on a refresh with a stale value in hand), so recording costs nothing while nobody waits.
    /// Ask before looking at <see cref="LastAttemptFailed"/>: an outage recorded in between then completes the task asked for.
    /// </summary>
    public Task NextOutage(AwsService service, string region)
    {
        var cell = CellOf(service, region);
        if (Volatile.Read(ref cell.Waiters) is { } current)
        {
            return current.Task;
        }

        var made = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously); // never run waiters on the attempt's thread
        return (Interlocked.CompareExchange(ref cell.Waiters, made, null) ?? made).Task;
    }

    // An exchange, not a read then an exchange: its fence orders the outcome written before it against the waiter's check.
    private static void Signal(Cell cell) => Interlocked.Exchange(ref cell.Waiters, null)?.TrySetResult();

    private Cell CellOf(AwsService service, string region) =>
        _last.TryGetValue((service, region), out var known) ? known : _last.GetOrAdd((service, region), static _ => new Cell());

    private sealed class Cell
    {
        public long OutageAt = Answered;
        public TaskCompletionSource? Waiters;
    }
}

using System.Collections.Concurrent;
using SecretsCache.Aws.Endpoints;

namespace SecretsCache.Resilience;

/// <summary>
/// The outcome of the last attempt sent to each service and region: an outage (5xx, an attempt timeout, a connection
/// failure, a malformed answer; see <see cref="RegionFailover.IsOutage"/>) or an answer (a value, or an error that is the
/// service answering: not found, access denied, throttling). The breaker needs ten calls in ten seconds before it opens;
/// this knows from the first failed attempt, so a caller holding a stale value need not wait for a refresh that the
/// instance already expects to fail. An outage is remembered for <c>memory</c> at most: with no attempt since, it is old news.
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

        var cell = _last.TryGetValue((service, region), out var known) ? known : _last.GetOrAdd((service, region), static _ => new Cell());
        Volatile.Write(ref cell.OutageAt, outcome);
    }

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

    private sealed class Cell
    {
        public long OutageAt = Answered;
    }
}

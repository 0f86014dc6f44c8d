using System.Diagnostics.Metrics;
using System.Text;

namespace SecretsCache.FleetSimulator;

/// <summary>
/// Counts the Redis second level's own events (its counters on the <c>SecretsCache</c> meter: hits, misses by reason, Redis
/// errors by operation and type, lease waits by outcome, fleet-limiter fallbacks), and the engine's failed fetches by
/// error type, into the phase under way, so a report can
/// say why an L2 run fetched from AWS more than once per TTL. Only counters of the second level are listened to: the L1's
/// per-read instruments stay off.
/// </summary>
internal sealed class L2Telemetry : IDisposable
{
    private static readonly HashSet<string> Counted =
    [
        "secretscache.l2.hits",
        "secretscache.l2.misses",
        "secretscache.l2.errors",
        "secretscache.l2.late_answers",
        "secretscache.l2.deferred_refreshes",
        "secretscache.lease.waits",
        "secretscache.fleet_limiter.fallbacks",
        "secretscache.fetch.errors", // the engine's: by error.type only (its other tags name the secret)
    ];

    private readonly MeterListener _listener = new();

    public L2Telemetry(Fleet fleet)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "SecretsCache" && Counted.Contains(instrument.Name))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = new StringBuilder(instrument.Name["secretscache.".Length..]);
            var typeOnly = instrument.Name == "secretscache.fetch.errors";
            foreach (var tag in tags)
            {
                if (!typeOnly || tag.Key == "error.type")
                {
                    key.Append(' ').Append(tag.Value);
                }
            }

            fleet.Current.L2Events.AddOrUpdate(key.ToString(), value, (_, n) => n + value);
        });
        _listener.Start();
    }

    /// <summary>One line: every event counted in a phase, most frequent first.</summary>
    public static string Describe(CallerStats stats) =>
        string.Join(", ", stats.L2Events.OrderByDescending(e => e.Value).Select(e => Report.I($"{e.Key} {e.Value:N0}")));

    public void Dispose() => _listener.Dispose();
}

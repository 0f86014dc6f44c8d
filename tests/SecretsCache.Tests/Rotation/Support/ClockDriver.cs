using SecretsCache.Tests.Fakes;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Rotation.Support;

/// <summary>
/// Moves a fake clock for callers that wait on it: only once every running caller waits on the clock, and then straight to
/// the next timer. Fake time then passes exactly as the callers' own delays say, however slow the machine is, so bounds
/// computed from the budget and the intervals are fixed numbers. A caller waits on the clock when it holds a timer due within
/// <c>horizon</c> (its re-check pause): each running caller holds at most one such timer, and nothing else may hold one
/// (the engine's fetch timeouts, 30 s by default, lie beyond the horizon).
/// </summary>
internal static class ClockDriver
{
    /// <returns>The fake time that passed until every caller finished.</returns>
    public static Task<TimeSpan> RunAsync(FakeTimeProvider time, Task caller, TimeSpan horizon, TimeSpan limit) =>
        RunAsync(time, [caller], horizon, limit);

    public static async Task<TimeSpan> RunAsync(FakeTimeProvider time, IReadOnlyCollection<Task> callers, TimeSpan horizon, TimeSpan limit)
    {
        var start = time.GetTimestamp();
        while (true)
        {
            Eventually.True(() => Parked(time, callers, horizon), "every running caller to wait on the clock");
            if (callers.All(c => c.IsCompleted))
            {
                break;
            }

            var next = time.NextTimerDue!.Value;
            if (time.GetElapsedTime(start) + next > limit)
            {
                throw new TimeoutException($"The callers did not finish within {limit} of fake time.");
            }

            time.Advance(next);
        }

        await Task.WhenAll(callers.Select(c => c.ContinueWith(static _ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        return time.GetElapsedTime(start);
    }

    /// <summary>Every caller has finished or waits on a timer due within <paramref name="horizon"/>.</summary>
    public static bool Parked(FakeTimeProvider time, IReadOnlyCollection<Task> callers, TimeSpan horizon)
    {
        var waiting = time.TimersDueWithin(horizon); // read first: a waiting caller cannot finish until the clock moves
        return waiting == callers.Count(c => !c.IsCompleted);
    }
}

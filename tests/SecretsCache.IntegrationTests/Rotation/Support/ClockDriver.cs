using System.Diagnostics;
using SecretsCache.IntegrationTests.Emulator.Support;

namespace SecretsCache.IntegrationTests.Rotation.Support;

/// <summary>
/// Moves a fake clock for callers that wait on it: only once every running caller waits on the clock, and then straight to
/// the next timer, so fake time passes exactly as the callers' own delays say however slow the machine is. A caller waits on
/// the clock when it holds a timer due within <c>horizon</c> (its re-check pause): each running caller holds at most one such
/// timer and nothing else may (turn the rate limits off: a bucket being refilled holds one; fetch and attempt timeouts lie
/// beyond the horizon).
/// </summary>
internal static class ClockDriver
{
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(60);

    /// <returns>The fake time that passed until every caller finished.</returns>
    public static async Task<TimeSpan> RunAsync(FakeTimeProvider clock, IReadOnlyCollection<Task> callers, TimeSpan horizon, TimeSpan limit)
    {
        var start = clock.GetUtcNow();
        while (true)
        {
            WaitUntilParked(clock, callers, horizon);
            if (callers.All(c => c.IsCompleted))
            {
                break;
            }

            var next = clock.NextTimerDue!.Value;
            if (clock.GetUtcNow() - start + next > limit)
            {
                throw new TimeoutException($"The callers did not finish within {limit} of fake time.");
            }

            clock.Advance(next);
        }

        await Task.WhenAll(callers.Select(c => c.ContinueWith(static _ => { }, TaskScheduler.Default)));
        return clock.GetUtcNow() - start;
    }

    private static void WaitUntilParked(FakeTimeProvider clock, IReadOnlyCollection<Task> callers, TimeSpan horizon)
    {
        var waited = Stopwatch.StartNew(); // a cap, not a synchronisation: the callers are waited for by the condition
        var spin = new SpinWait();
        while (true)
        {
            var waiting = clock.TimersDueWithin(horizon); // read first: a waiting caller cannot finish until the clock moves
            if (waiting == callers.Count(c => !c.IsCompleted))
            {
                return;
            }

            Assert.True(waited.Elapsed < Cap, $"Gave up after {Cap.TotalSeconds:0} s waiting for the callers to wait on the clock ({waiting} timers, {callers.Count(c => !c.IsCompleted)} running).");
            spin.SpinOnce(sleep1Threshold: 20);
        }
    }
}

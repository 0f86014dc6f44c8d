using Microsoft.Extensions.Time.Testing;

namespace SecretsCache.Redis.Tests.Support;

/// <summary>Bounded waits for a condition the code under test reaches asynchronously (a registration, a delivery, a count, a reconnect).</summary>
internal static class Wait
{
    public static Task UntilAsync(Func<bool> condition, int seconds = 15, Func<string>? diagnose = null) =>
        UntilAsync(() => Task.FromResult(condition()), seconds, diagnose);

    /// <summary>Polls <paramref name="condition"/> for about <paramref name="seconds"/>; the timeout's message ends with what <paramref name="diagnose"/> says then.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, int seconds = 15, Func<string>? diagnose = null)
    {
        for (var i = 0; i < seconds * 200; i++)
        {
            if (await condition())
            {
                return;
            }

            await Task.Yield();
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
        }

        throw new TimeoutException($"The condition did not hold within about {seconds} s." + (diagnose is null ? string.Empty : " " + diagnose()));
    }

    /// <summary>
    /// Awaits <paramref name="task"/> while it waits on a stopped fake clock: each time it has not completed within
    /// <paramref name="patience"/> of real time, the clock moves on by <paramref name="step"/> (at most
    /// <paramref name="steps"/> times, then one last wait of <paramref name="bound"/>).
    /// </summary>
    public static async Task<T> AdvancingAsync<T>(Task<T> task, FakeTimeProvider time, TimeSpan step, TimeSpan patience, int steps, TimeSpan bound)
    {
        for (var i = 0; i < steps; i++)
        {
            try
            {
                return await task.WaitAsync(patience);
            }
            catch (TimeoutException)
            {
                time.Advance(step);
            }
        }

        return await task.WaitAsync(bound);
    }
}

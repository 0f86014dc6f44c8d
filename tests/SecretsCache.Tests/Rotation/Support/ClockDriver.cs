using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Rotation.Support;

/// <summary>Moves a fake clock in small steps until a task finishes, letting continuations run between steps.</summary>
internal static class ClockDriver
{
    public static async Task<TimeSpan> RunAsync(FakeTimeProvider time, Task task, TimeSpan step, TimeSpan limit)
    {
        var start = time.GetTimestamp();
        while (!task.IsCompleted)
        {
            if (time.GetElapsedTime(start) > limit)
            {
                throw new TimeoutException($"The task did not finish within {limit} of fake time.");
            }

            // Let continuations settle before moving the clock, so timers are registered when it moves.
            await Task.Delay(2);
            time.Advance(step);
        }

        await task.ConfigureAwait(false);
        return time.GetElapsedTime(start);
    }
}

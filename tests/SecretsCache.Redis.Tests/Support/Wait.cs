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
}

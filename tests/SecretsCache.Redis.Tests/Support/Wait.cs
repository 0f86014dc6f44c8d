namespace SecretsCache.Redis.Tests.Support;

/// <summary>Bounded waits for a condition the code under test reaches asynchronously (a registration, a delivery, a count).</summary>
internal static class Wait
{
    public static Task UntilAsync(Func<bool> condition, int seconds = 15) => UntilAsync(() => Task.FromResult(condition()), seconds);

    public static async Task UntilAsync(Func<Task<bool>> condition, int seconds = 15)
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

        throw new TimeoutException($"The condition did not hold within about {seconds} s.");
    }
}

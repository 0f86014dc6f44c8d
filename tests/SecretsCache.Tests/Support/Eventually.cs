namespace SecretsCache.Tests.Support;

/// <summary>
/// Bounded polling for "another thread has got this far" (for example, a background fetch has reached the source).
/// Never used to wait for time to pass: the clock is fake. The cap (some seconds of SpinWait back-off) is generous so a
/// loaded machine does not fail a test, yet bounded so a condition that never comes true fails rather than hangs.
/// </summary>
internal static class Eventually
{
    public static void True(Func<bool> condition, string what, int maxSpins = 100_000)
    {
        var spin = new SpinWait();
        for (var i = 0; i < maxSpins; i++)
        {
            if (condition())
            {
                return;
            }

            spin.SpinOnce();
        }

        Assert.Fail($"Gave up waiting for: {what}.");
    }
}

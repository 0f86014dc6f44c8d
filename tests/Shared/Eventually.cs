using System.Diagnostics;

namespace SecretsCache.Tests.Support;

/// <summary>
/// Bounded polling for "another thread has got this far" (for example, a background fetch has reached the source).
/// Never used to wait for time to pass: the clock is fake. The cap is real time, generous so a loaded machine does not fail
/// a test, yet bounded so a condition that never comes true fails with what was awaited rather than hangs.
/// </summary>
internal static class Eventually
{
    public static readonly TimeSpan DefaultCap = TimeSpan.FromSeconds(30);

    public static void True(Func<bool> condition, string what, TimeSpan? cap = null)
    {
        var limit = cap ?? DefaultCap;
        var waited = Stopwatch.StartNew();
        var spin = new SpinWait();
        while (!condition())
        {
            if (waited.Elapsed > limit)
            {
                Assert.Fail($"Gave up after {limit.TotalSeconds:0} s waiting for: {what}.");
            }

            spin.SpinOnce(sleep1Threshold: 20);
        }
    }
}

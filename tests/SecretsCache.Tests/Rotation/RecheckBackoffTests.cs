using SecretsCache.Rotation;

namespace SecretsCache.Tests.Rotation;

public sealed class RecheckBackoffTests
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(1, 0.25, 0.5)]
    [InlineData(2, 0.5, 1.0)]
    [InlineData(3, 1.0, 2.0)]
    [InlineData(4, 2.0, 4.0)]
    [InlineData(5, 2.5, 5.0)] // capped
    [InlineData(50, 2.5, 5.0)]
    public void The_pause_doubles_up_to_the_cap_with_equal_jitter(int recheck, double minSeconds, double maxSeconds)
    {
        Assert.Equal(minSeconds, RecheckBackoff.Delay(recheck, Base, Cap, 0).TotalSeconds, 6);
        Assert.Equal(maxSeconds, RecheckBackoff.Delay(recheck, Base, Cap, 1).TotalSeconds, 6);
        var middle = RecheckBackoff.Delay(recheck, Base, Cap, 0.5).TotalSeconds;
        Assert.InRange(middle, minSeconds, maxSeconds);
    }
}

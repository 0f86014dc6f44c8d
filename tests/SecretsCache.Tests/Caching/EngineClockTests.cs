using SecretsCache.Caching;

namespace SecretsCache.Tests.Caching;

/// <summary>The engine's system clock: milliseconds, monotonic, in the same domain as <see cref="Environment.TickCount64"/>.</summary>
public sealed class EngineClockTests
{
    [Fact]
    public void On_linux_the_coarse_clock_is_used()
    {
        Assert.Equal(OperatingSystem.IsLinux(), CoarseClock.IsAvailable);
    }

    [Fact]
    public void The_system_clock_counts_milliseconds_that_never_go_back()
    {
        var clock = new EngineClock(TimeProvider.System);
        Assert.Equal(1000, clock.Frequency);
        var previous = clock.Now();
        for (var i = 0; i < 10_000; i++)
        {
            var now = clock.Now();
            Assert.True(now >= previous, $"{now} after {previous}");
            previous = now;
        }

        // Both count from boot: they differ by the coarse clock's tick (1-10 ms), never by seconds.
        Assert.InRange(clock.Now() - Environment.TickCount64, -1000, 1000);
    }

    [Fact]
    public void Any_other_time_provider_is_read_as_is()
    {
        var fake = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var clock = new EngineClock(fake);
        var before = clock.Now();
        fake.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(fake.TimestampFrequency, clock.Frequency);
        Assert.Equal(3 * fake.TimestampFrequency, clock.Now() - before);
    }
}

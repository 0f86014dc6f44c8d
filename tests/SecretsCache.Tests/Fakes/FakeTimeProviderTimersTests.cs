namespace SecretsCache.Tests.Fakes;

/// <summary>
/// The read-only view of the timers on Microsoft's fake clock (FakeTimeProviderTimers) agrees with what the clock fires. These
/// fail first, and say why, if a package update renames the internals the view reads.
/// </summary>
public sealed class FakeTimeProviderTimersTests
{
    private static readonly TimeSpan Never = Timeout.InfiniteTimeSpan;

    [Fact]
    public void A_new_clock_has_no_timers()
    {
        var time = new FakeTimeProvider();

        Assert.Equal(0, time.ActiveTimers);
        Assert.Null(time.NextTimerDue);
        Assert.Equal(0, time.TimersDueWithin(TimeSpan.FromDays(1)));
    }

    [Fact]
    public void Scheduled_timers_are_counted_with_their_due_times_until_they_fire_or_stop()
    {
        var time = new FakeTimeProvider();
        var fired = new List<string>();
        using var once = time.CreateTimer(_ => fired.Add("once"), null, TimeSpan.FromSeconds(5), Never);
        using var periodic = time.CreateTimer(_ => fired.Add("periodic"), null, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(2));
        using var stopped = time.CreateTimer(_ => fired.Add("stopped"), null, Never, Never);

        Assert.Equal(2, time.ActiveTimers);
        Assert.Equal(TimeSpan.FromSeconds(2), time.NextTimerDue);
        Assert.Equal(0, time.TimersDueWithin(TimeSpan.FromSeconds(2) - TimeSpan.FromTicks(1)));
        Assert.Equal(1, time.TimersDueWithin(TimeSpan.FromSeconds(2)));
        Assert.Equal(2, time.TimersDueWithin(TimeSpan.FromSeconds(5)));

        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(["periodic"], fired);
        Assert.Equal(TimeSpan.FromSeconds(1), time.NextTimerDue); // the periodic one, again at 4 s
        Assert.Equal(2, time.ActiveTimers);

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(["periodic", "periodic", "once"], fired);
        Assert.Equal(1, time.ActiveTimers); // the one-shot timer fired and is gone
        Assert.Equal(TimeSpan.FromSeconds(1), time.NextTimerDue);

        Assert.True(periodic.Change(Never, Never));
        Assert.Equal(0, time.ActiveTimers);
        Assert.True(periodic.Change(TimeSpan.FromSeconds(7), Never));
        Assert.Equal(TimeSpan.FromSeconds(7), time.NextTimerDue);
        periodic.Dispose();
        Assert.Null(time.NextTimerDue);
    }

    [Fact]
    public void Looking_at_the_timers_does_not_move_a_clock_that_advances_when_read()
    {
        var time = new FakeTimeProvider { AutoAdvanceAmount = TimeSpan.FromSeconds(1) };
        using var timer = time.CreateTimer(_ => { }, null, TimeSpan.FromMinutes(1), Never);
        var before = time.ToString(); // ToString reads the time without advancing it

        Assert.Equal(1, time.ActiveTimers);
        Assert.Equal(TimeSpan.FromMinutes(1), time.NextTimerDue);
        Assert.Equal(1, time.TimersDueWithin(TimeSpan.FromMinutes(1)));
        Assert.Equal(before, time.ToString());
    }
}

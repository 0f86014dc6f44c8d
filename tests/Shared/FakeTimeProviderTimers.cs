using System.Collections;
using System.Reflection;
using Microsoft.Extensions.Time.Testing;

namespace SecretsCache.Tests.Fakes;

/// <summary>
/// Who waits on Microsoft's <see cref="FakeTimeProvider"/>: the timers it will fire when the clock moves. The provider has no
/// public API for them, so these read its own set of scheduled timers (internal to Microsoft.Extensions.TimeProvider.Testing
/// 10.11.0), under the lock the provider itself takes for that set. Nothing is scheduled or fired here: the answers are
/// exactly what <see cref="FakeTimeProvider.Advance"/> will act on. If a package update renames those internals, every use
/// throws an <see cref="InvalidOperationException"/> that says so (FakeTimeProviderTimersTests).
/// </summary>
internal static class FakeTimeProviderTimers
{
    private const BindingFlags Instance = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    private static readonly FieldInfo? WaitersField = typeof(FakeTimeProvider).GetField("Waiters", Instance);
    private static readonly FieldInfo? NowField = typeof(FakeTimeProvider).GetField("_now", Instance);
    private static readonly PropertyInfo? WakeupTimeProperty =
        WaitersField?.FieldType.GetGenericArguments().SingleOrDefault()?.GetProperty("WakeupTime", Instance);

    extension(FakeTimeProvider time)
    {
        /// <summary>Timers scheduled to fire (created or changed with a finite due time, not yet fired if one-shot, not disposed).</summary>
        public int ActiveTimers => DueTimes(time).Count;

        /// <summary>How long until the earliest timer fires (zero if one is already due); null when none is scheduled.</summary>
        public TimeSpan? NextTimerDue => DueTimes(time) is { Count: > 0 } due ? due.Min() : null;

        /// <summary>Timers that will fire within <paramref name="horizon"/> from now (inclusive): who is waiting on the clock soon.</summary>
        public int TimersDueWithin(TimeSpan horizon) => DueTimes(time).Count(d => d <= horizon);
    }

    /// <summary>For each scheduled timer, how far ahead of the provider's current time it fires (never negative).</summary>
    private static List<TimeSpan> DueTimes(FakeTimeProvider time)
    {
        if (WaitersField?.GetValue(time) is not IEnumerable waiters || NowField is null || WakeupTimeProperty is null)
        {
            throw new InvalidOperationException(
                "Microsoft.Extensions.TimeProvider.Testing changed: FakeTimeProvider no longer keeps its timers in 'Waiters' " +
                "(with 'WakeupTime') and its time in '_now'. Update FakeTimeProviderTimers to the new version.");
        }

        lock (waiters)
        {
            // Read the field, not GetUtcNow(): that would move a clock with an AutoAdvanceAmount, and may fire timers.
            var now = ((DateTimeOffset)NowField.GetValue(time)!).Ticks;
            var due = new List<TimeSpan>();
            foreach (var waiter in waiters)
            {
                var wakeup = (long)WakeupTimeProperty.GetValue(waiter)!;
                due.Add(TimeSpan.FromTicks(Math.Max(0, wakeup - now)));
            }

            return due;
        }
    }
}

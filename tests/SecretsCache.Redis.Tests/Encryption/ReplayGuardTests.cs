using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using SecretsCache.Redis.Encryption;

namespace SecretsCache.Redis.Tests.Encryption;

public sealed class ReplayGuardTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, 500, TimeSpan.Zero));

    private long Now => _time.GetUtcNow().ToUnixTimeMilliseconds();

    [Fact]
    public void A_message_within_the_window_either_way_passes_once_and_one_just_outside_is_stale()
    {
        var guard = new ReplayGuard(_time, Window);
        var window = (long)Window.TotalMilliseconds;

        foreach (var sentAt in new[] { Now, Now - window, Now + window })
        {
            var stamp = Stamp(sentAt);
            Assert.Equal(MessageRejection.None, guard.Admit(stamp));
            Assert.Equal(MessageRejection.Replayed, guard.Admit(stamp));
        }

        Assert.Equal(MessageRejection.Stale, guard.Admit(Stamp(Now - window - 1)));
        Assert.Equal(MessageRejection.Stale, guard.Admit(Stamp(Now + window + 1)));
        Assert.Equal(MessageRejection.Stale, guard.Admit(Stamp(long.MinValue)));
        Assert.Equal(MessageRejection.Stale, guard.Admit(Stamp(long.MaxValue)));
        Assert.Equal(3, guard.Count);
    }

    [Fact]
    public void An_id_is_forgotten_once_its_message_is_out_of_the_window_and_a_replay_then_is_stale()
    {
        var guard = new ReplayGuard(_time, Window);
        var ahead = Stamp(Now + 20_000); // a sender whose clock is 20 s ahead
        var now = Stamp(Now);
        Assert.Equal(MessageRejection.None, guard.Admit(ahead));
        Assert.Equal(MessageRejection.None, guard.Admit(now));

        _time.Advance(TimeSpan.FromSeconds(31));
        Assert.Equal(MessageRejection.Stale, guard.Admit(now));
        Assert.Equal(MessageRejection.Replayed, guard.Admit(ahead)); // still inside its window: remembered
        Assert.Equal(1, guard.Count);

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(MessageRejection.Stale, guard.Admit(ahead));
        Assert.Equal(0, guard.Count);
    }

    [Fact]
    public void A_flood_beyond_the_capacity_keeps_memory_bounded_and_no_admitted_id_ever_passes_again()
    {
        const int Capacity = 100;
        var guard = new ReplayGuard(_time, Window, Capacity);
        var admitted = new List<MessageStamp>();
        for (var second = 0; second < 20; second++)
        {
            for (var i = 0; i < 30; i++)
            {
                var stamp = Stamp(Now);
                if (guard.Admit(stamp) == MessageRejection.None)
                {
                    admitted.Add(stamp);
                }

                Assert.InRange(guard.Count, 0, Capacity);
            }

            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(600, admitted.Count); // each second's 30 fit: only older seconds were forgotten
        Assert.All(admitted, stamp => Assert.NotEqual(MessageRejection.None, guard.Admit(stamp)));
        Assert.Contains(admitted, stamp => guard.Admit(stamp) == MessageRejection.Crowded); // forgotten early, and refused for it
        Assert.Equal(MessageRejection.None, guard.Admit(Stamp(Now))); // a new message still passes
    }

    [Fact]
    public void More_new_messages_in_one_second_than_the_capacity_are_refused_not_remembered_beyond_it()
    {
        const int Capacity = 50;
        var guard = new ReplayGuard(_time, Window, Capacity);
        var results = Enumerable.Range(0, 120).Select(_ => guard.Admit(Stamp(Now))).ToArray();

        Assert.Equal(Capacity, results.Count(r => r == MessageRejection.None));
        Assert.All(results.Skip(Capacity), r => Assert.Equal(MessageRejection.Crowded, r));
        Assert.InRange(guard.Count, 0, Capacity);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(MessageRejection.None, guard.Admit(Stamp(Now))); // the next second passes again
    }

    [Fact]
    public void Concurrent_deliveries_of_the_same_messages_admit_each_exactly_once()
    {
        var guard = new ReplayGuard(_time, Window);
        var stamps = Enumerable.Range(0, 2_000).Select(i => Stamp(Now - (i % 40 * 1_000))).ToArray();
        var admitted = new ConcurrentBag<MessageStamp>();

        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            foreach (var stamp in stamps)
            {
                if (guard.Admit(stamp) == MessageRejection.None)
                {
                    admitted.Add(stamp);
                }
            }
        });

        var inWindow = stamps.Count(s => s.SentAtMs >= Now - (long)Window.TotalMilliseconds);
        Assert.Equal(inWindow, admitted.Count);
        Assert.Equal(inWindow, admitted.Distinct().Count());
        Assert.Equal(inWindow, guard.Count);
    }

    private static MessageStamp Stamp(long sentAtMs) => new(sentAtMs, new UInt128(BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8)), BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8))));
}

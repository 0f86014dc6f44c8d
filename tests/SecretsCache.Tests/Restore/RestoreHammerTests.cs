using SecretsCache.Composition;
using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Restore;

/// <summary>The restore hook while reads, fetches and the clock run: bounded in count, no errors, and a cache that agrees with the source afterwards.</summary>
public sealed class RestoreHammerTests
{
    private const int Keys = 16;
    private const int Readers = 4;
    private const int ReadsPerReader = 2_000;
    private const int Restores = 200;

    [Fact]
    public async Task The_hook_is_safe_while_reads_are_in_flight()
    {
        var time = new FakeTimeProvider();
        var options = new SecretsCacheOptions
        {
            DefaultTtl = TimeSpan.FromSeconds(30),
            TtlJitter = 0.5,
            RefreshAheadFraction = 0.5, // refresh-ahead fetches run beside the hook too
        };
        options.Snapshot.MaxAgeAfterRestore = TimeSpan.FromSeconds(1); // most values expire at each restore: reads fetch all along
        var source = new FakeSecretSource(time) { AnswerAsynchronously = true };
        for (var i = 0; i < Keys; i++)
        {
            source.Set(Key(i), "value-" + i);
        }

        using var provider = new SecretProvider(SecretsCacheRuntime.Create(source, options, time, null, null, random: null, seeded: new Random(3)));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a bound, not a synchronisation: the loops end by count
        var readers = Enumerable.Range(0, Readers).Select(r => Task.Run(async () =>
        {
            for (var n = 0; n < ReadsPerReader; n++)
            {
                var i = (n * 7 + r) % Keys;
                Assert.Equal("value-" + i, await provider.GetStringAsync(Key(i), timeout.Token));
            }
        })).ToArray();
        var restorer = Task.Run(() =>
        {
            for (var n = 0; n < Restores && !timeout.IsCancellationRequested; n++)
            {
                provider.OnSnapshotRestored();
                time.Advance(TimeSpan.FromMilliseconds(700));
            }
        });

        await Task.WhenAll([.. readers, restorer]);

        // Consistent afterwards: every schedule is ordered, no fetch is left in flight, and each value is the source's.
        var now = time.GetTimestamp();
        for (var i = 0; i < Keys; i++)
        {
            if (provider.Engine.ValueOf(Key(i)) is { } value)
            {
                Assert.True(value.FetchedAt <= now);
                Assert.True(value.RefreshAt <= value.ExpiresAt && value.ExpiresAt <= value.StaleUntil, $"{Key(i)}'s schedule is out of order");
                Assert.Equal("value-" + i, value.Secret.GetString());
            }
        }

        var calls = source.Calls;
        for (var i = 0; i < Keys; i++)
        {
            Assert.Equal("value-" + i, await provider.GetStringAsync(Key(i)));
        }

        provider.OnSnapshotRestored();
        time.Advance(TimeSpan.FromSeconds(2));
        provider.OnSnapshotRestored();
        for (var i = 0; i < Keys; i++)
        {
            Assert.Equal("value-" + i, await provider.GetStringAsync(Key(i)));
        }

        Assert.True(source.Calls > calls, "values older than the bound are fetched again after the hammer too");
        Assert.True(source.Calls < Readers * ReadsPerReader, "single-flight held: far fewer fetches than reads");
    }

    private static string Key(int i) => $"app/hammer-{i:00}";
}

using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Tests.Fakes;

namespace SecretsCache.Tests.Caching;

public sealed class SmokeTests
{
    [Fact]
    public async Task A_value_is_fetched_once_and_then_served_from_the_cache_until_its_ttl()
    {
        var time = new FakeTimeProvider();
        var source = new FakeSecretSource(time);
        source.Set("app/db", "one");
        using var provider = new SecretProvider(source, new SecretsCacheOptions { TtlJitter = 0, RefreshAheadFraction = 1 }, time, NullLoggerFactory.Instance);

        Assert.Equal("one", await provider.GetStringAsync("app/db"));
        Assert.Equal("one", await provider.GetStringAsync("sm:app/db"));
        Assert.Equal(1, source.Calls);

        source.Set("app/db", "two");
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal("two", await provider.GetStringAsync("app/db"));
        Assert.Equal(2, source.Calls);
    }
}

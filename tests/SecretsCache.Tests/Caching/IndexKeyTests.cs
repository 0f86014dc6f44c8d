using SecretsCache.Caching;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Caching;

public sealed class IndexKeyTests
{
    public static TheoryData<string> Spellings() => new()
    {
        "app/db",
        "sm:app/db",
        "app/db?stage=AWSPREVIOUS",
        "sm:app/db?versionId=11111111-2222-3333-4444-555555555555",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf",
        "sm:arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db-AbCdEf",
        "/aws/reference/secretsmanager/app/db",
        "sm:/aws/reference/secretsmanager/app/db",
        "sm:/aws/reference/secretsmanager",
        "sm:/app/db",
        "ssm:/app/prod/url",
        "ssm:/app/prod/url:3",
    };

    [Theory]
    [MemberData(nameof(Spellings))]
    public void An_index_key_reads_back_as_the_same_reference_and_names_its_canonical_text(string spelling)
    {
        var canonical = SecretReference.Parse(spelling).CanonicalText;

        var key = IndexKeys.Of(canonical);

        Assert.Equal(canonical, SecretReference.Parse(key).CanonicalText);
        Assert.Equal(canonical, IndexKeys.CanonicalOf(key));
    }

    [Theory]
    [InlineData("sm:app/db", "app/db")]
    [InlineData("sm:/app/db", "/app/db")]
    [InlineData("sm:/aws/reference/secretsmanager/app/db", "sm:/aws/reference/secretsmanager/app/db")] // plain, that is Parameter Store
    [InlineData("ssm:/app/prod/url", "ssm:/app/prod/url")]
    public void A_secret_is_indexed_under_its_plain_name_wherever_that_reads_the_same(string canonical, string key) =>
        Assert.Equal(key, IndexKeys.Of(canonical));

    [Fact]
    public async Task A_plain_name_is_one_key_in_the_index_and_another_spelling_adds_one_alias()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        cache.Source.Set("ssm:/app/url", "u");

        await cache.ReadAsync("app/db");
        Assert.Equal(1, cache.Provider.Engine.IndexSize);

        await cache.ReadAsync("sm:app/db");
        Assert.Equal(2, cache.Provider.Engine.IndexSize);

        await cache.ReadAsync("ssm:/app/url");
        Assert.Equal(3, cache.Provider.Engine.IndexSize);
        Assert.Equal(2, cache.Provider.Count);
        Assert.Equal(2, cache.Source.Calls);
    }

    [Fact]
    public async Task The_fleet_names_an_entry_read_by_its_plain_name_by_its_canonical_text()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        await cache.ReadAsync("app/db");

        Assert.Equal(["sm:app/db"], cache.Provider.Engine.HeldKeys());
        Assert.True(cache.Provider.Engine.Holds("sm:app/db"));
        Assert.NotNull(cache.Provider.Engine.FreshFor("sm:app/db"));
    }

    [Fact]
    public async Task A_prefixed_name_read_first_is_the_key_and_the_plain_name_the_alias()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");

        await cache.ReadAsync("sm:app/db");
        Assert.Equal(1, cache.Provider.Engine.IndexSize);
        Assert.Equal(["sm:app/db"], cache.Provider.Engine.HeldKeys());

        Assert.Equal("one", await cache.ReadAsync("app/db"));
        Assert.Equal(2, cache.Provider.Engine.IndexSize);
        Assert.Equal(1, cache.Provider.Count);
        Assert.Equal(1, cache.Source.Calls);

        cache.Provider.Invalidate("app/db"); // by the alias's spelling
        Assert.Equal(0, cache.Provider.Engine.IndexSize);
    }

    [Fact]
    public async Task Readers_of_both_spellings_at_once_make_one_entry_and_one_fetch()
    {
        using var cache = CacheHarness.Create();
        cache.Source.Set("app/db", "one");
        const int Rounds = 300;
        const int Readers = 8;
        for (var round = 0; round < Rounds; round++)
        {
            using var start = new Barrier(Readers);
            var reads = Enumerable.Range(0, Readers).Select(i => Task.Run(async () =>
            {
                start.SignalAndWait(TimeSpan.FromSeconds(10));
                return await cache.ReadAsync(i % 2 == 0 ? "app/db" : "sm:app/db");
            }));

            Assert.All(await Task.WhenAll(reads), value => Assert.Equal("one", value));
            Assert.Equal(1, cache.Provider.Count);
            Assert.Equal(2, cache.Provider.Engine.IndexSize);
            Assert.Equal(round + 1, cache.Source.Calls);
            cache.Provider.Invalidate("app/db");
        }
    }
}

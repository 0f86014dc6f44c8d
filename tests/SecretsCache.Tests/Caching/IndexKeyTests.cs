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
}

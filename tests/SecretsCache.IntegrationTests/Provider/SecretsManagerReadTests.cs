using System.Text;
using System.Text.Json.Serialization;
using SecretsCache.IntegrationTests.Emulator.Support;
using SecretsCache.IntegrationTests.Provider.Support;

namespace SecretsCache.IntegrationTests.Provider;

public sealed record DbSettings(string Host, int Port, string Password);

[JsonSerializable(typeof(DbSettings))]
public sealed partial class ProviderJsonContext : JsonSerializerContext;

/// <summary>GetSecretValue (current, by stage, by version id, binary, JSON), ARNs, DescribeSecret refreshes and single-flight, over real HTTP.</summary>
public sealed class SecretsManagerReadTests(AwsFixture fixture) : ProviderTestBase(fixture), IClassFixture<AwsFixture>
{
    private const string GetSecretValue = "secretsmanager.GetSecretValue";
    private const string DescribeSecret = "secretsmanager.DescribeSecret";

    [Fact]
    public async Task Default_read_returns_AWSCURRENT_with_its_metadata_and_is_then_served_from_the_cache()
    {
        var name = SecretName("db");
        var arn = Aws.CreateSecret(name, "v1-current");
        var provider = CreateProvider();

        var secret = await provider.GetAsync(name);
        var again = await provider.GetAsync("sm:" + name);

        Assert.Equal("v1-current", secret.GetString());
        Assert.Equal(name, secret.Name);
        Assert.Equal(arn, secret.Arn);
        Assert.Equal(["AWSCURRENT"], secret.VersionStages);
        Assert.NotNull(secret.VersionId);
        Assert.False(secret.IsBinary);
        Assert.Same(secret, again);
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
        Assert.DoesNotContain("v1-current", secret.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stage_and_version_id_references_read_those_versions()
    {
        var name = SecretName("rotated");
        Aws.CreateSecret(name, "first");
        var secondId = Aws.PutSecretValue(name, "second");
        var provider = CreateProvider();

        var previous = await provider.GetAsync($"{name}?stage=AWSPREVIOUS");
        var current = await provider.GetAsync($"sm:{name}?stage=AWSCURRENT");
        var byId = await provider.GetAsync($"{name}?versionId={previous.VersionId}");
        var currentById = await provider.GetAsync($"{name}?versionId={secondId}");

        Assert.Equal("first", previous.GetString());
        Assert.Equal(["AWSPREVIOUS"], previous.VersionStages);
        Assert.Equal("second", current.GetString());
        Assert.Equal(secondId, current.VersionId);
        Assert.Equal("first", byId.GetString());
        Assert.Equal(previous.VersionId, byId.VersionId);
        Assert.Equal("second", currentById.GetString());
        Assert.NotEqual(previous.VersionId, current.VersionId);
        Assert.Equal(4, Aws.Requests.Count(GetSecretValue));

        // ?stage=AWSCURRENT is the same cache entry as the plain name.
        Assert.Same(current, await provider.GetAsync(name));
        Assert.Equal(4, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task Binary_secrets_are_read_as_bytes_and_refuse_to_be_read_as_strings()
    {
        var name = SecretName("bin");
        var bytes = Encoding.UTF8.GetBytes("binary-s3cret-value");
        Aws.CreateSecret(name, secretBinary: bytes);
        var provider = CreateProvider();

        var read = await provider.GetBytesAsync(name);
        var error = await Assert.ThrowsAsync<SecretFormatException>(() => provider.GetStringAsync(name).AsTask());

        Assert.Equal(bytes, read.ToArray());
        Assert.True((await provider.GetAsync(name)).IsBinary);
        Assert.Equal(name, error.Reference);
        NoValueLeaks.InException(error, "binary-s3cret-value", Convert.ToBase64String(bytes));
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task Json_secrets_deserialize_through_a_source_generated_context()
    {
        var name = SecretName("json");
        Aws.CreateSecret(name, """{"Host":"db.internal","Port":5432,"Password":"pa55-w0rd"}""");
        var broken = SecretName("json-broken");
        Aws.CreateSecret(broken, """{"Host":"db.internal","Port":"not-a-port-hunter2"}""");
        var provider = CreateProvider();

        var settings = await provider.GetJsonAsync(name, ProviderJsonContext.Default.DbSettings);
        var error = await Assert.ThrowsAsync<SecretFormatException>(() => provider.GetJsonAsync(broken, ProviderJsonContext.Default.DbSettings).AsTask());

        Assert.Equal(new DbSettings("db.internal", 5432, "pa55-w0rd"), settings);
        NoValueLeaks.InException(error, "not-a-port-hunter2", "db.internal");
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task Full_secret_arn_reads_the_secret_and_is_its_own_cache_entry()
    {
        var name = SecretName("arn");
        var arn = Aws.CreateSecret(name, "by-arn");
        var provider = CreateProvider();

        var secret = await provider.GetAsync(arn);
        var previousStage = await Assert.ThrowsAsync<SecretNotFoundException>(() => provider.GetAsync(arn + "?stage=AWSPREVIOUS").AsTask());

        Assert.Equal("by-arn", secret.GetString());
        Assert.Equal(arn, secret.Arn);
        Assert.Equal(name, secret.Name);
        Assert.Same(secret, await provider.GetAsync(arn));
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
        NoValueLeaks.InException(previousStage, "by-arn");

        var byName = await provider.GetAsync(name);
        Assert.NotSame(secret, byName);
        Assert.Equal(secret.VersionId, byName.VersionId);
        Assert.Equal(3, Aws.Requests.Count(GetSecretValue));
    }

    [Fact]
    public async Task Version_aware_refresh_spends_only_a_DescribeSecret_while_the_version_is_unchanged()
    {
        var name = SecretName("describe");
        Aws.CreateSecret(name, "unchanged");
        var provider = CreateProvider(o =>
        {
            o.Aws.VersionAwareRefresh = true;
            o.MinForcedRefreshInterval = TimeSpan.Zero; // two forced refreshes back to back, each must reach AWS
        });

        var first = await provider.GetAsync(name);
        var refreshed = await provider.RefreshAsync(name);

        Assert.Same(first, refreshed);
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
        Assert.Equal(1, Aws.Requests.Count(DescribeSecret));

        var newVersion = Aws.PutSecretValue(name, "changed");
        var changed = await provider.RefreshAsync(name);

        Assert.Equal("changed", changed.GetString());
        Assert.Equal(newVersion, changed.VersionId);
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
        Assert.Equal(2, Aws.Requests.Count(DescribeSecret));
        Assert.Same(changed, await provider.GetAsync(name));
    }

    [Fact]
    public async Task Version_aware_refresh_after_ttl_expiry_costs_one_DescribeSecret_and_a_change_costs_both()
    {
        var name = SecretName("expiry");
        Aws.CreateSecret(name, "v1");
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        var provider = CreateProvider(
            o =>
            {
                o.Aws.VersionAwareRefresh = true;
                o.TtlByReference[name] = TimeSpan.FromSeconds(30);
            },
            clock);

        var first = await provider.GetAsync(name);
        clock.Advance(TimeSpan.FromSeconds(31));
        var afterExpiry = await provider.GetAsync(name);

        Assert.Same(first, afterExpiry);
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
        Assert.Equal(1, Aws.Requests.Count(DescribeSecret));

        // The unchanged answer renewed the TTL: a read now is a hit.
        Assert.Same(first, await provider.GetAsync(name));
        Assert.Equal(1, Aws.Requests.Count(DescribeSecret));

        Aws.PutSecretValue(name, "v2");
        clock.Advance(TimeSpan.FromSeconds(31));
        var changed = await provider.GetAsync(name);

        Assert.Equal("v2", changed.GetString());
        Assert.NotEqual(first.VersionId, changed.VersionId);
        Assert.Equal(2, Aws.Requests.Count(GetSecretValue));
        Assert.Equal(2, Aws.Requests.Count(DescribeSecret));
    }

    [Fact]
    public async Task Version_aware_refresh_of_a_secret_scheduled_for_deletion_reports_it_as_a_plain_refresh_does()
    {
        var name = SecretName("deleted");
        Aws.CreateSecret(name, "about-to-go");
        var provider = CreateProvider(o => o.Aws.VersionAwareRefresh = true);
        var plain = CreateProvider();
        await provider.GetAsync(name);
        await plain.GetAsync(name);

        Aws.DeleteSecret(name); // DescribeSecret still answers (with DeletedDate); GetSecretValue answers InvalidRequestException
        var expected = await Assert.ThrowsAsync<SecretRequestException>(() => plain.RefreshAsync(name).AsTask());
        var error = await Assert.ThrowsAsync<SecretRequestException>(() => provider.RefreshAsync(name).AsTask());

        Assert.Equal("InvalidRequestException", expected.ErrorCode);
        Assert.Equal(expected.ErrorCode, error.ErrorCode);
        Assert.Equal(1, Aws.Requests.Count(DescribeSecret));
        Assert.Equal(4, Aws.Requests.Count(GetSecretValue));
        NoValueLeaks.InException(error, "about-to-go");
    }

    [Fact]
    public async Task Two_hundred_concurrent_reads_of_a_cold_key_make_exactly_one_request()
    {
        var name = SecretName("stampede");
        Aws.CreateSecret(name, "shared");
        Aws.Faults.Latency = TimeSpan.FromMilliseconds(200); // keeps the one fetch in flight while the readers pile up
        var provider = CreateProvider();

        var reads = Enumerable.Range(0, 200).Select(_ => Task.Run(() => provider.GetAsync(name).AsTask())).ToArray();
        var secrets = await Task.WhenAll(reads);

        Assert.All(secrets, s => Assert.Same(secrets[0], s));
        Assert.Equal("shared", secrets[0].GetString());
        Assert.Equal(1, Aws.Requests.Count(GetSecretValue));
        Assert.Equal(1, Aws.Requests.Total);
    }
}

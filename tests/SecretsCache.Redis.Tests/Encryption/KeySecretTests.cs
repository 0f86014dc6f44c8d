using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.Storage;
using SecretsCache.Redis.Tests.Support;
using SecretsCache.Testing;

namespace SecretsCache.Redis.Tests.Encryption;

/// <summary>The encryption key in a Secrets Manager secret (in the emulator): AWSCURRENT seals, AWSPREVIOUS still opens.</summary>
[Collection(RedisCollection.Name)]
public sealed class KeySecretTests(RedisServer server) : IAsyncLifetime
{
    private const string KeySecret = "redis/l2-key";
    private const string Key = "sm:app/db";
    private static readonly TimeSpan Ttl = TimeSpan.FromMinutes(5);
    private readonly string _ns = Levels.NewNamespace();
    private AwsEmulator _aws = null!;

    public async Task InitializeAsync() => _aws = await AwsEmulator.StartAsync();

    public async Task DisposeAsync() => await _aws.DisposeAsync();

    private SecretProvider NewProvider(Action<SecretsCacheOptions>? configure = null)
    {
        var options = new SecretsCacheOptions().UseEmulator(_aws);
        configure?.Invoke(options);
        return new SecretProvider(options);
    }

    private Task<RedisSecondLevel> LevelAsync(ISecretProvider provider, Action<RedisL2Options>? configure = null, TimeProvider? time = null, ILoggerFactory? loggers = null)
    {
        server.EnsureRunning();
        var options = new RedisL2Options { Configuration = server.Configuration, Namespace = _ns, EncryptionKeySecret = KeySecret };
        configure?.Invoke(options);
        return RedisSecondLevel.CreateAsync(options, provider, time, loggers);
    }

    private static Secret Value(string value, string version = "version-1-000000000000000000000000") =>
        Levels.Secret("app/db", value, version, TimeProvider.System.GetUtcNow());

    [RedisFact]
    public async Task A_key_in_base64_or_binary_is_loaded_and_instances_reading_the_same_secret_share_entries()
    {
        _aws.CreateSecret(KeySecret, Convert.ToBase64String(Levels.NewKey()));
        _aws.CreateSecret("redis/l2-key-binary", secretBinary: Levels.NewKey());
        using var providerA = NewProvider();
        using var providerB = NewProvider();
        await using var a = await LevelAsync(providerA);
        await using var b = await LevelAsync(providerB);
        await using var binary = await LevelAsync(providerA, o => o.EncryptionKeySecret = "redis/l2-key-binary");

        Assert.True(await a.Store.WriteAsync(Key, Value("shared"), Ttl));

        Assert.Equal("shared", (await b.Store.ReadAsync(Key)).Entry!.Secret.GetString());
        Assert.NotNull(binary.Connection.Keys.Ring);
        Assert.NotEqual(a.Connection.Keys.Ring!.Current.Id, binary.Connection.Keys.Ring!.Current.Id);
        Assert.Equal(L2MissReason.Absent, (await binary.Store.ReadAsync(Key)).Reason);
    }

    [RedisFact]
    public async Task After_a_rotation_the_first_message_under_the_new_key_makes_the_others_load_it_and_old_entries_still_open()
    {
        _aws.CreateSecret(KeySecret, Convert.ToBase64String(Levels.NewKey()));
        using var providerA = NewProvider();
        using var providerB = NewProvider();
        await using var a = await LevelAsync(providerA);
        await using var b = await LevelAsync(providerB);
        var oldKeyId = a.Connection.Keys.Ring!.Current.Id;
        await a.Store.WriteAsync("sm:app/old", Value("sealed-before"), Ttl);

        _aws.PutSecretValue(KeySecret, Convert.ToBase64String(Levels.NewKey())); // AWSCURRENT moves; the old key is AWSPREVIOUS.
        Assert.True(await a.Connection.Keys.ReloadAsync(force: true, CancellationToken.None));
        var newKeyId = a.Connection.Keys.Ring!.Current.Id;
        Assert.NotEqual(oldKeyId, newKeyId);
        await a.Store.WriteAsync(Key, Value("sealed-after", "version-2-000000000000000000000000"), Ttl);
        Assert.Equal(L2MissReason.Absent, (await b.Store.ReadAsync(Key)).Reason); // b does not know the new key yet.

        await a.Backplane.PublishAsync(BackplaneKind.Changed, [(Key, "version-2-000000000000000000000000")]);

        await Until(() => b.Connection.Keys.Ring!.Current.Id == newKeyId);
        Assert.Equal("sealed-after", (await b.Store.ReadAsync(Key)).Entry!.Secret.GetString());
        Assert.Equal("sealed-before", (await b.Store.ReadAsync("sm:app/old")).Entry!.Secret.GetString());
        Assert.Equal("sealed-before", (await a.Store.ReadAsync("sm:app/old")).Entry!.Secret.GetString());
    }

    [RedisFact]
    public async Task The_key_secret_is_read_again_every_reload_interval()
    {
        _aws.CreateSecret(KeySecret, Convert.ToBase64String(Levels.NewKey()));
        // One fake clock for the provider's cache and the level's reload timer (started now, so AWS signatures stay current).
        var time = new SignallingTimeProvider(TimeProvider.System.GetUtcNow());
        using var provider = new SecretProvider(new SecretsCacheOptions { DefaultTtl = TimeSpan.FromSeconds(10) }.UseEmulator(_aws), timeProvider: time);
        await using var level = await LevelAsync(provider, o => o.KeyReloadInterval = TimeSpan.FromSeconds(30), time);
        var before = level.Connection.Keys.Ring!.Current.Id;
        _aws.PutSecretValue(KeySecret, Convert.ToBase64String(Levels.NewKey()));

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(before, level.Connection.Keys.Ring!.Current.Id);
        time.Advance(TimeSpan.FromSeconds(1)); // The provider's 10 s TTL has passed: this reload reads AWS.

        await Until(() => level.Connection.Keys.Ring!.Current.Id != before);
        Assert.Equal(2, level.Connection.Keys.Ring!.All.Count);
    }

    [RedisFact]
    public async Task A_key_secret_that_is_not_a_key_or_does_not_exist_leaves_the_level_missing_and_says_so_without_the_value()
    {
        const string NotAKey = "this-is-not-a-key-but-it-is-secret";
        _aws.CreateSecret(KeySecret, NotAKey);
        using var provider = NewProvider();
        using var logs = new FakeLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));

        await using var wrong = await LevelAsync(provider, time: null, loggers: loggers);
        await using var missing = await LevelAsync(provider, o => o.EncryptionKeySecret = "redis/does-not-exist");

        foreach (var level in new[] { wrong, missing })
        {
            Assert.Null(level.Connection.Keys.Ring);
            Assert.Equal(L2MissReason.NoKey, (await level.Store.ReadAsync(Key)).Reason);
            Assert.False(await level.Store.WriteAsync(Key, Value("v"), Ttl));
            Assert.Equal(SecretsCache.Redis.Lease.LeaseStatus.Unavailable, (await level.Lease.TryAcquireAsync(Key)).Status);
        }

        var records = logs.Collector.GetSnapshot();
        Assert.Contains(records, r => r.Message.Contains("Reading the encryption key secret failed", StringComparison.Ordinal));
        Assert.All(records, r => Assert.DoesNotContain(NotAKey, r.Message + r.Exception, StringComparison.Ordinal));
        var parse = Assert.Throws<SecretFormatException>(() => SecretsCache.Redis.Encryption.EncryptionKeys.ParseKey(new Secret(KeySecret, NotAKey), KeySecret));
        Assert.DoesNotContain(NotAKey, parse.Message, StringComparison.Ordinal);
    }

    private static async Task Until(Func<bool> condition)
    {
        for (var i = 0; i < 1_000 && !condition(); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(10), TimeProvider.System);
        }

        Assert.True(condition(), "The condition did not hold within about 10 s.");
    }
}

using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Storage;
using SecretsCache.Redis.Tests.Support;
using StackExchange.Redis;

namespace SecretsCache.Redis.Tests.Storage;

[Collection(RedisCollection.Name)]
public sealed class RedisL2StoreTests(RedisServer server)
{
    private const string Key = "sm:app/db";
    private readonly string _ns = Levels.NewNamespace();
    private readonly byte[] _key = Levels.NewKey();
    private readonly SignallingTimeProvider _time = new();

    [RedisFact]
    public async Task What_one_instance_writes_another_reads_with_its_AWS_fetch_time_and_expiry()
    {
        await using var writer = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var reader = await Levels.CreateAsync(server, _ns, _key, time: _time);
        var fetchedAt = _time.GetUtcNow();

        Assert.True(await writer.Store.WriteAsync(Key, Levels.Secret("app/db", "v1-value", "version-1-000000000000000000000000", fetchedAt), TimeSpan.FromMinutes(5)));
        _time.Advance(TimeSpan.FromMinutes(2));
        var read = await reader.Store.ReadAsync(Key);

        Assert.True(read.IsHit, read.Reason.ToString());
        Assert.Equal("v1-value", read.Entry!.Secret.GetString());
        Assert.Equal(fetchedAt, read.Entry.FetchedAt);
        Assert.Equal(fetchedAt.AddMinutes(5), read.Entry.ExpiresAt);
        // The L1 copy lives only for what is left of the TTL counted from the AWS fetch: 3 minutes, not 5.
        Assert.Equal(TimeSpan.FromMinutes(3), read.Entry.RemainingAt(_time.GetUtcNow()));
    }

    [RedisFact]
    public async Task An_absent_key_is_a_miss_and_Redis_expires_an_entry_with_its_TTL()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var admin = await server.ConnectAdminAsync();

        Assert.Equal(L2MissReason.Absent, (await level.Store.ReadAsync(Key)).Reason);
        await level.Store.WriteAsync(Key, Levels.Secret("app/db", "v", "version-1-000000000000000000000000", _time.GetUtcNow().AddSeconds(-20)), TimeSpan.FromSeconds(30));

        var name = level.Connection.Names.Entry(RedisNames.Hash(level.Connection.Keys.Ring!.Current, Key));
        var ttl = await admin.GetDatabase().KeyTimeToLiveAsync(name);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10)); // 30 s from a fetch 20 s ago.
    }

    [RedisFact]
    public async Task An_expired_value_is_not_written()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);

        var written = await level.Store.WriteAsync(Key, Levels.Secret("app/db", "v", "version-1-000000000000000000000000", _time.GetUtcNow().AddMinutes(-10)), TimeSpan.FromMinutes(5));

        Assert.False(written);
        Assert.Equal(L2MissReason.Absent, (await level.Store.ReadAsync(Key)).Reason);
    }

    [RedisFact]
    public async Task An_entry_copied_under_another_key_name_in_Redis_is_a_forgery_miss()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var admin = await server.ConnectAdminAsync();
        var ring = level.Connection.Keys.Ring!;
        await level.Store.WriteAsync("sm:app/public", Levels.Secret("app/public", "public-value", "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5));

        var from = level.Connection.Names.Entry(RedisNames.Hash(ring.Current, "sm:app/public"));
        var to = level.Connection.Names.Entry(RedisNames.Hash(ring.Current, "sm:app/admin"));
        Assert.True(await admin.GetDatabase().KeyCopyAsync(from, to));

        var read = await level.Store.ReadAsync("sm:app/admin");
        Assert.False(read.IsHit);
        Assert.Equal(L2MissReason.Forged, read.Reason);
        Assert.True((await level.Store.ReadAsync("sm:app/public")).IsHit);
    }

    [RedisFact]
    public async Task Garbage_under_a_key_name_is_a_miss_not_an_exception()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var admin = await server.ConnectAdminAsync();
        var name = level.Connection.Names.Entry(RedisNames.Hash(level.Connection.Keys.Ring!.Current, Key));

        await admin.GetDatabase().StringSetAsync(name, "not an envelope");
        Assert.Equal(L2MissReason.Malformed, (await level.Store.ReadAsync(Key)).Reason);

        // Another type under the name: nothing this library wrote, like garbage (and not Redis failing).
        await admin.GetDatabase().KeyDeleteAsync(name);
        await admin.GetDatabase().HashSetAsync(name, "f", "v");
        Assert.Equal(L2MissReason.Malformed, (await level.Store.ReadAsync(Key)).Reason);
    }

    [RedisFact]
    public async Task Another_type_planted_under_one_entry_name_does_not_open_the_breaker_for_every_key()
    {
        // WRONGTYPE is Redis answering about one key; counted as a Redis failure, reads of one poisoned key would switch the
        // second level off for all of them.
        await using var level = await Levels.CreateAsync(server, _ns, _key, o => o.CircuitBreaker.MinimumThroughput = 2, time: _time);
        await using var admin = await server.ConnectAdminAsync();
        Assert.True(await level.Store.WriteAsync("sm:app/public", Levels.Secret("app/public", "v", "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5)));
        var name = level.Connection.Names.Entry(RedisNames.Hash(level.Connection.Keys.Ring!.Current, Key));
        await admin.GetDatabase().HashSetAsync(name, "f", "v");

        for (var i = 0; i < 10; i++)
        {
            Assert.False((await level.Store.ReadAsync(Key)).IsHit);
        }

        Assert.False(level.Connection.Guard.IsOpen);
        Assert.True((await level.Store.ReadAsync("sm:app/public")).IsHit);
    }

    [RedisFact]
    public async Task A_huge_value_planted_under_an_entry_name_is_read_only_to_the_bound_and_is_a_miss()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var admin = await server.ConnectAdminAsync();
        var ring = level.Connection.Keys.Ring!;
        var name = level.Connection.Names.Entry(RedisNames.Hash(ring.Current, Key));
        var planted = new byte[16 * 1024 * 1024];
        planted[0] = EntryEnvelope.Format;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(planted.AsSpan(1), ring.Current.Id);
        await admin.GetDatabase().StringSetAsync(name, planted);

        var read = await level.Store.ReadAsync(Key);

        Assert.Equal(L2MissReason.Malformed, read.Reason); // not opened (nor authenticated): too long to be an envelope
        Assert.Equal(planted.Length, await admin.GetDatabase().StringLengthAsync(name));
    }

    [RedisFact]
    public async Task A_secret_too_long_for_an_envelope_is_not_written()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);

        var written = await level.Store.WriteAsync(Key, Levels.Secret("app/db", new string('x', EntryEnvelope.MaxLength), "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5));

        Assert.False(written);
        Assert.Equal(L2MissReason.Absent, (await level.Store.ReadAsync(Key)).Reason);
    }

    [RedisFact]
    public async Task Entries_written_before_a_key_rotation_are_read_with_the_previous_key_and_new_ones_with_the_current()
    {
        var newKey = Levels.NewKey();
        await using var before = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var after = await Levels.CreateAsync(server, _ns, newKey, o => o.PreviousEncryptionKeys.Add(_key), time: _time);
        await using var foreign = await Levels.CreateAsync(server, _ns, Levels.NewKey(), time: _time);
        await before.Store.WriteAsync("sm:app/old", Levels.Secret("app/old", "old-value", "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5));

        await after.Store.WriteAsync("sm:app/new", Levels.Secret("app/new", "new-value", "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5));

        Assert.Equal("old-value", (await after.Store.ReadAsync("sm:app/old")).Entry!.Secret.GetString());
        Assert.Equal("new-value", (await after.Store.ReadAsync("sm:app/new")).Entry!.Secret.GetString());
        // An instance still on the old key does not find the new entry (its name is under the new key): it fetches from AWS.
        Assert.Equal(L2MissReason.Absent, (await before.Store.ReadAsync("sm:app/new")).Reason);
        // An instance with a foreign key finds nothing of this namespace.
        Assert.Equal(L2MissReason.Absent, (await foreign.Store.ReadAsync("sm:app/old")).Reason);
    }

    [RedisFact]
    public async Task Remove_deletes_the_entry_under_every_key_name()
    {
        var newKey = Levels.NewKey();
        await using var before = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await using var after = await Levels.CreateAsync(server, _ns, newKey, o => o.PreviousEncryptionKeys.Add(_key), time: _time);
        await before.Store.WriteAsync(Key, Levels.Secret("app/db", "old", "version-1-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5));
        await after.Store.WriteAsync(Key, Levels.Secret("app/db", "new", "version-2-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5));

        Assert.True(await after.Store.RemoveAsync(Key));

        Assert.Equal(L2MissReason.Absent, (await after.Store.ReadAsync(Key)).Reason);
        Assert.Equal(L2MissReason.Absent, (await before.Store.ReadAsync(Key)).Reason);
    }

    [RedisFact]
    public async Task A_read_for_a_version_sees_only_that_version()
    {
        await using var level = await Levels.CreateAsync(server, _ns, _key, time: _time);
        await level.Store.WriteAsync(Key, Levels.Secret("app/db", "v2", "version-2-000000000000000000000000", _time.GetUtcNow()), TimeSpan.FromMinutes(5));

        Assert.True((await level.Store.ReadAsync(Key, "version-2-000000000000000000000000")).IsHit);
        Assert.Equal(L2MissReason.VersionMismatch, (await level.Store.ReadAsync(Key, "version-3-000000000000000000000000")).Reason);
    }
}

using System.Text;
using SecretsCache.Redis.Encryption;
using SecretsCache.Redis.Tests.Support;

namespace SecretsCache.Redis.Tests.Encryption;

public sealed class KeyRingTests
{
    [Fact]
    public void Derived_keys_differ_by_purpose_and_namespace_and_the_master_key_is_none_of_them()
    {
        var master = Levels.NewKey();
        var a = new RingKey("orders", master);
        var b = new RingKey("billing", master);

        Assert.Equal(new RingKey("orders", master).Id, a.Id);
        Assert.NotEqual(a.Id, b.Id);
        Assert.NotEqual(a.EncryptionKey, a.NameKey);
        Assert.NotEqual(a.NameKey, a.MessageKey);
        Assert.NotEqual(a.EncryptionKey, b.EncryptionKey);
        Assert.DoesNotContain(master, new[] { a.EncryptionKey, a.NameKey, a.MessageKey });
    }

    [Fact]
    public void A_key_of_the_wrong_length_is_refused_without_quoting_it()
    {
        var error = Assert.Throws<ArgumentException>(() => new RingKey("orders", new byte[16]));

        Assert.Contains("32 bytes, not 16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Key_names_are_HMACs_under_the_namespace_prefix_and_hold_no_secret_name()
    {
        var key = new RingKey("orders", Levels.NewKey());
        var names = new RedisNames("orders");

        var name = names.Entry(RedisNames.Hash(key, "sm:app/db-creds")).ToString();

        Assert.StartsWith("sc:orders:e:", name, StringComparison.Ordinal);
        Assert.DoesNotContain("db-creds", name, StringComparison.Ordinal);
        Assert.Equal("sc:orders:e:".Length + 43, name.Length); // 32 bytes in unpadded base64url.
        Assert.NotEqual(name, names.Entry(RedisNames.Hash(key, "sm:app/db-creds2")).ToString());
        Assert.NotEqual(name, names.Entry(RedisNames.Hash(new RingKey("orders", Levels.NewKey()), "sm:app/db-creds")).ToString());
        Assert.DoesNotContain(Convert.ToBase64String(Encoding.UTF8.GetBytes("app/db-creds")), name, StringComparison.Ordinal);
    }

    [Fact]
    public void A_remembered_name_is_the_HMAC_of_its_key_and_the_memory_stays_bounded_past_its_size()
    {
        var key = new RingKey("orders", Levels.NewKey());
        var keys = Enumerable.Range(0, RingKey.RememberedNames + 1_000).Select(i => "sm:app/s-" + i).ToArray();

        foreach (var canonical in keys.Concat(keys.Take(100)))
        {
            Assert.Equal(System.Security.Cryptography.HMACSHA256.HashData(key.NameKey, Encoding.UTF8.GetBytes(canonical)), RedisNames.Hash(key, canonical));
            Assert.InRange(key.RememberedNameCount, 1, RingKey.RememberedNames);
        }

        Assert.Same(RedisNames.Hash(key, keys[^1]), RedisNames.Hash(key, keys[^1]));
    }

    [Fact]
    public void A_ring_puts_the_current_key_first_and_drops_duplicates()
    {
        var current = Levels.NewKey();
        var previous = Levels.NewKey();

        var ring = KeyRing.Create("orders", current, [previous, current, previous]);

        Assert.Equal(2, ring.All.Count);
        Assert.Equal(new RingKey("orders", current).Id, ring.Current.Id);
        Assert.NotNull(ring.Find(new RingKey("orders", previous).Id));
        Assert.Null(ring.Find(new RingKey("orders", Levels.NewKey()).Id));
    }
}

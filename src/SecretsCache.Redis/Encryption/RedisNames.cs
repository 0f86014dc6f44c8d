using StackExchange.Redis;

namespace SecretsCache.Redis.Encryption;

/// <summary>
/// Every Redis key and channel of one namespace, all under <c>sc:{namespace}:</c> (so an ACL can confine an application to
/// its own). A secret is named by the HMAC-SHA256 of its canonical key under the name key, so Redis holds no secret names.
/// </summary>
internal sealed class RedisNames
{
    public RedisNames(string @namespace)
    {
        Namespace = @namespace;
        Prefix = "sc:" + @namespace + ":";
        BackplaneChannel = RedisChannel.Literal(Prefix + "bp");
        LeaseResultChannel = RedisChannel.Literal(Prefix + "done");
    }

    public string Namespace { get; }

    /// <summary>The start of every key and channel of the namespace.</summary>
    public string Prefix { get; }

    public RedisChannel BackplaneChannel { get; }

    public RedisChannel LeaseResultChannel { get; }

    /// <summary>The HMAC of a canonical key under <paramref name="key"/>'s name key: 32 bytes.</summary>
    public static byte[] Hash(RingKey key, string canonicalKey) => key.NameOf(canonicalKey);

    public RedisKey Entry(ReadOnlySpan<byte> hash) => Prefix + "e:" + Base64Url(hash);

    public RedisKey Lease(ReadOnlySpan<byte> hash) => Prefix + "l:" + Base64Url(hash);

    public RedisKey Bucket(string quota) => Prefix + "rl:" + quota;

    /// <summary>The sorted set of the fleet's instances (random ids, scored by when each last said it was there).</summary>
    public RedisKey Presence => Prefix + "fleet";

    private static string Base64Url(ReadOnlySpan<byte> hash) =>
        Convert.ToBase64String(hash).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

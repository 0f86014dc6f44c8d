using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace SecretsCache.Redis.Encryption;

/// <summary>
/// The keys derived from one 32-byte master key for one namespace (HKDF-SHA256, the namespace as salt): one encrypts
/// entries, one names Redis keys, one authenticates backplane messages. The id, also derived, tells which master key
/// sealed an envelope without revealing anything about it.
/// </summary>
internal sealed class RingKey
{
    private const string Label = "secretscache-redis/v1/";

    public RingKey(string @namespace, ReadOnlySpan<byte> master)
    {
        if (master.Length != RedisL2Options.KeyLength)
        {
            throw new ArgumentException($"An encryption key must be {RedisL2Options.KeyLength} bytes, not {master.Length}.", nameof(master));
        }

        var salt = Encoding.UTF8.GetBytes(Label + @namespace);
        EncryptionKey = Derive(master, salt, "entries");
        NameKey = Derive(master, salt, "names");
        MessageKey = Derive(master, salt, "messages");
        Id = BinaryPrimitives.ReadUInt64BigEndian(Derive(master, salt, "key-id"));
    }

    /// <summary>Names the master key in envelopes and messages.</summary>
    public ulong Id { get; }

    public byte[] EncryptionKey { get; }

    public byte[] NameKey { get; }

    public byte[] MessageKey { get; }

    /// <summary>At most this many names are remembered; past it the memory starts again (a bound, not a policy).</summary>
    internal const int RememberedNames = 16_384;

    // Every step of a warm-up (its read, leases, waits, writes) names each of its keys: an HMAC each time made a fifth of a
    // fleet deploy's cryptography. Callers never change the bytes they are given.
    private readonly ConcurrentDictionary<string, byte[]> _names = new(StringComparer.Ordinal);

    internal int RememberedNameCount => _names.Count;

    /// <summary>The HMAC-SHA256 of <paramref name="canonicalKey"/> under <see cref="NameKey"/>: 32 bytes, not to be modified.</summary>
    public byte[] NameOf(string canonicalKey)
    {
        if (_names.TryGetValue(canonicalKey, out var known))
        {
            return known;
        }

        var hash = HMACSHA256.HashData(NameKey, Encoding.UTF8.GetBytes(canonicalKey));
        if (_names.Count >= RememberedNames)
        {
            _names.Clear();
        }

        _names.TryAdd(canonicalKey, hash);
        return hash;
    }

    private static byte[] Derive(ReadOnlySpan<byte> master, byte[] salt, string purpose)
    {
        var output = new byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, master, output, salt, Encoding.UTF8.GetBytes(purpose));
        return output;
    }
}

/// <summary>The current key (which seals and names) and the previous ones (which still open), current first.</summary>
internal sealed class KeyRing
{
    private readonly RingKey[] _keys;

    private KeyRing(RingKey[] keys) => _keys = keys;

    public RingKey Current => _keys[0];

    /// <summary>Every key, current first; a read looks an entry up under each one's name.</summary>
    public IReadOnlyList<RingKey> All => _keys;

    public static KeyRing Create(string @namespace, ReadOnlySpan<byte> current, IEnumerable<ReadOnlyMemory<byte>> previous)
    {
        var keys = new List<RingKey> { new(@namespace, current) };
        foreach (var key in previous)
        {
            var ring = new RingKey(@namespace, key.Span);
            if (keys.TrueForAll(k => k.Id != ring.Id))
            {
                keys.Add(ring);
            }
        }

        return new KeyRing([.. keys]);
    }

    public RingKey? Find(ulong id)
    {
        foreach (var key in _keys)
        {
            if (key.Id == id)
            {
                return key;
            }
        }

        return null;
    }
}

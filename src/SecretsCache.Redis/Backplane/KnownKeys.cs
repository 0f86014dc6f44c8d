using SecretsCache.Redis.Encryption;

namespace SecretsCache.Redis.Backplane;

/// <summary>
/// The canonical keys this instance holds, by their HMAC under each key of the ring, so a message (which carries only
/// HMACs) can be mapped back to the keys it concerns here. A hash that maps to nothing is a key this instance does not
/// hold: there is nothing to update. The map for a key id is built on first use, so a rotation costs one pass. A key is
/// kept only while the L1 holds it (<c>held</c>, asked under this lock): the L1 reports every entry it drops, so this set is
/// bounded by <see cref="SecretsCacheOptions.MaxEntries"/>, and a key dropped while its fetch was starting is not kept.
/// </summary>
internal sealed class KnownKeys
{
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, (RingKey Key, Dictionary<string, string> ByHash)> _byKeyId = [];

    public int Count
    {
        get
        {
            lock (_keys)
            {
                return _keys.Count;
            }
        }
    }

    public bool Contains(string canonicalKey)
    {
        lock (_keys)
        {
            return _keys.Contains(canonicalKey);
        }
    }

    /// <summary>Keeps <paramref name="canonicalKey"/>, if <paramref name="held"/> says the L1 holds it (default: it does).</summary>
    public void Track(string canonicalKey, Func<string, bool>? held = null)
    {
        lock (_keys)
        {
            if ((held is null || held(canonicalKey)) && _keys.Add(canonicalKey))
            {
                foreach (var (key, byHash) in _byKeyId.Values)
                {
                    byHash[HashText(key, canonicalKey)] = canonicalKey;
                }
            }
        }
    }

    /// <summary>Forgets <paramref name="canonicalKey"/>, unless <paramref name="held"/> says the L1 holds it again (a new entry since).</summary>
    public void Untrack(string canonicalKey, Func<string, bool>? held = null)
    {
        lock (_keys)
        {
            if ((held is null || !held(canonicalKey)) && _keys.Remove(canonicalKey))
            {
                foreach (var (key, byHash) in _byKeyId.Values)
                {
                    byHash.Remove(HashText(key, canonicalKey));
                }
            }
        }
    }

    /// <summary>The canonical key behind <paramref name="hash"/> under <paramref name="key"/>, if this instance holds it.</summary>
    public string? Resolve(RingKey key, byte[] hash)
    {
        lock (_keys)
        {
            if (!_byKeyId.TryGetValue(key.Id, out var map))
            {
                map = (key, _keys.ToDictionary(k => HashText(key, k), StringComparer.Ordinal));
                _byKeyId[key.Id] = map;
            }

            return map.ByHash.GetValueOrDefault(Convert.ToBase64String(hash));
        }
    }

    /// <summary>Forgets the maps of keys no longer in <paramref name="ring"/>.</summary>
    public void Prune(KeyRing ring)
    {
        lock (_keys)
        {
            foreach (var id in _byKeyId.Keys.Where(id => ring.Find(id) is null).ToArray())
            {
                _byKeyId.Remove(id);
            }
        }
    }

    private static string HashText(RingKey key, string canonicalKey) => Convert.ToBase64String(RedisNames.Hash(key, canonicalKey));
}

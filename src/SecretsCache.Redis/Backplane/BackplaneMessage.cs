using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using SecretsCache.Redis.Encryption;

namespace SecretsCache.Redis.Backplane;

/// <summary>What happened to the keys of a backplane message.</summary>
internal enum BackplaneKind : byte
{
    /// <summary>A new version was seen (a fetch, a rotation re-fetch): update the L1 and raise SecretChanged.</summary>
    Changed = 1,

    /// <summary>The keys were invalidated: drop them from the L1.</summary>
    Invalidated = 2,

    /// <summary>Everything was invalidated: drop the whole L1. Carries no keys.</summary>
    InvalidatedAll = 3,

    /// <summary>The keys were refreshed (same or new version): re-read them from the second level.</summary>
    Refreshed = 4,
}

/// <summary>One key of a message: the HMAC of its canonical key (never the key) and its version id, if any.</summary>
internal readonly record struct BackplaneItem(byte[] Hash, string? Version);

/// <summary>A decoded, authenticated message.</summary>
internal sealed record BackplaneMessage(BackplaneKind Kind, Guid Sender, ulong KeyId, IReadOnlyList<BackplaneItem> Items);

/// <summary>Why a received message was dropped.</summary>
internal enum BackplaneRejection
{
    None,
    Malformed,
    UnknownKey,
    Forged,
}

/// <summary>
/// The wire format: format (1) | kind (1) | sender instance id (16) | key id (8) | item count (2) | items (hash 32, version
/// length 1, version) | tag (16: HMAC-SHA256 under the message key, truncated). Keys travel as HMACs and versions as ids:
/// no name and no value is ever in a message. The tag keeps anyone without the key from forging invalidations.
/// </summary>
internal static class BackplaneCodec
{
    public const byte Format = 1;
    public const int MaxItems = 256;
    private const int HashSize = 32, TagSize = 16, Header = 1 + 1 + 16 + 8 + 2;

    /// <summary>The longest message: <see cref="MaxItems"/> items with the longest version ids. A longer one is dropped unread.</summary>
    public const int MaxLength = Header + (MaxItems * (HashSize + 1 + byte.MaxValue)) + TagSize;
    private static readonly byte[] Label = Encoding.UTF8.GetBytes("secretscache-redis/v1/backplane");
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public static byte[] Encode(RingKey key, BackplaneKind kind, Guid sender, IReadOnlyList<BackplaneItem> items)
    {
        if (items.Count > MaxItems)
        {
            throw new ArgumentException($"A message carries at most {MaxItems} keys.", nameof(items));
        }

        var versions = items.Select(i => i.Version is null ? [] : Encoding.UTF8.GetBytes(i.Version)).ToArray();
        if (versions.Any(v => v.Length > byte.MaxValue) || items.Any(i => i.Hash.Length != HashSize))
        {
            throw new ArgumentException("A key hash or version id is out of range.", nameof(items));
        }

        var output = new byte[Header + versions.Sum(v => HashSize + 1 + v.Length) + TagSize];
        var span = output.AsSpan();
        span[0] = Format;
        span[1] = (byte)kind;
        sender.TryWriteBytes(span.Slice(2, 16));
        BinaryPrimitives.WriteUInt64BigEndian(span[18..], key.Id);
        BinaryPrimitives.WriteUInt16BigEndian(span[26..], (ushort)items.Count);
        var at = Header;
        for (var i = 0; i < items.Count; i++)
        {
            items[i].Hash.CopyTo(span[at..]);
            span[at + HashSize] = (byte)versions[i].Length;
            versions[i].CopyTo(span[(at + HashSize + 1)..]);
            at += HashSize + 1 + versions[i].Length;
        }

        Tag(key, span[..at], span[at..]);
        return output;
    }

    /// <summary>Decodes and authenticates a message from Redis; every byte is hostile, and nothing here throws.</summary>
    public static (BackplaneMessage? Message, BackplaneRejection Rejection, ulong KeyId) Decode(KeyRing ring, ReadOnlySpan<byte> data)
    {
        // The length first: a flood of huge messages costs a comparison each, not an HMAC over each.
        if (data.Length is < Header + TagSize or > MaxLength || data[0] != Format || data[1] is < 1 or > 4)
        {
            return (null, BackplaneRejection.Malformed, 0);
        }

        var keyId = BinaryPrimitives.ReadUInt64BigEndian(data[18..]);
        if (ring.Find(keyId) is not { } key)
        {
            return (null, BackplaneRejection.UnknownKey, keyId);
        }

        Span<byte> expected = stackalloc byte[TagSize];
        Tag(key, data[..^TagSize], expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, data[^TagSize..]))
        {
            return (null, BackplaneRejection.Forged, keyId);
        }

        var count = BinaryPrimitives.ReadUInt16BigEndian(data[26..]);
        var kind = (BackplaneKind)data[1];
        if (count > MaxItems || (kind == BackplaneKind.InvalidatedAll) != (count == 0))
        {
            return (null, BackplaneRejection.Malformed, keyId);
        }

        var items = new BackplaneItem[count];
        var body = data[Header..^TagSize];
        var at = 0;
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (body.Length - at < HashSize + 1 || body.Length - at - HashSize - 1 < body[at + HashSize])
                {
                    return (null, BackplaneRejection.Malformed, keyId);
                }

                var versionLength = body[at + HashSize];
                var version = versionLength == 0 ? null : StrictUtf8.GetString(body.Slice(at + HashSize + 1, versionLength));
                items[i] = new BackplaneItem(body.Slice(at, HashSize).ToArray(), version);
                at += HashSize + 1 + versionLength;
            }
        }
        catch (DecoderFallbackException)
        {
            return (null, BackplaneRejection.Malformed, keyId);
        }

        return at != body.Length
            ? (null, BackplaneRejection.Malformed, keyId)
            : (new BackplaneMessage(kind, new Guid(data.Slice(2, 16)), keyId, items), BackplaneRejection.None, keyId);
    }

    private static void Tag(RingKey key, ReadOnlySpan<byte> message, Span<byte> tag)
    {
        Span<byte> full = stackalloc byte[32];
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.MessageKey);
        hmac.AppendData(Label);
        hmac.AppendData(message);
        hmac.GetHashAndReset(full);
        full[..TagSize].CopyTo(tag);
    }
}

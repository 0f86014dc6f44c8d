using System.Buffers.Binary;
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

/// <summary>
/// The wire format: a <see cref="SealedMessage"/> (format, kind as its type, key id, send time, message id, ..., tag) whose
/// body is the sender instance id (16) | item count (2) | items (hash 32, version length 1, version). Keys travel as HMACs and
/// versions as ids: no name and no value is ever in a message. The tag keeps anyone without the key from forging one; the
/// send time and id let receivers refuse one delivered again.
/// </summary>
internal static class BackplaneCodec
{
    public const int MaxItems = 256;
    private const int HashSize = 32, BodyHeader = 16 + 2;

    /// <summary>The longest message: <see cref="MaxItems"/> items with the longest version ids. A longer one is dropped unread.</summary>
    public const int MaxLength = SealedMessage.Overhead + BodyHeader + (MaxItems * (HashSize + 1 + byte.MaxValue));
    private static readonly byte[] Label = Encoding.UTF8.GetBytes("secretscache-redis/v2/backplane");
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public static byte[] Encode(RingKey key, BackplaneKind kind, Guid sender, IReadOnlyList<BackplaneItem> items, DateTimeOffset sentAt)
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

        var body = new byte[BodyHeader + versions.Sum(v => HashSize + 1 + v.Length)];
        var span = body.AsSpan();
        sender.TryWriteBytes(span[..16]);
        BinaryPrimitives.WriteUInt16BigEndian(span[16..], (ushort)items.Count);
        var at = BodyHeader;
        for (var i = 0; i < items.Count; i++)
        {
            items[i].Hash.CopyTo(span[at..]);
            span[at + HashSize] = (byte)versions[i].Length;
            versions[i].CopyTo(span[(at + HashSize + 1)..]);
            at += HashSize + 1 + versions[i].Length;
        }

        return SealedMessage.Seal(key, Label, (byte)kind, sentAt, body);
    }

    /// <summary>
    /// Decodes and authenticates a message from Redis; every byte is hostile, and nothing here throws. Whether it is fresh and
    /// new is the receiver's <see cref="MessageScreen"/> to tell, from <c>Opened</c>.
    /// </summary>
    public static (BackplaneMessage? Message, MessageRejection Rejection, OpenedMessage Opened) Decode(KeyRing ring, ReadOnlySpan<byte> data)
    {
        var rejection = SealedMessage.Open(ring, Label, data, MaxLength, out var opened);
        if (rejection != MessageRejection.None)
        {
            return (null, rejection, opened);
        }

        var body = SealedMessage.Body(data);
        var kind = (BackplaneKind)opened.Type;
        if (body.Length < BodyHeader || opened.Type is < 1 or > 4)
        {
            return (null, MessageRejection.Malformed, opened);
        }

        var count = BinaryPrimitives.ReadUInt16BigEndian(body[16..]);
        if (count > MaxItems || (kind == BackplaneKind.InvalidatedAll) != (count == 0))
        {
            return (null, MessageRejection.Malformed, opened);
        }

        var items = new BackplaneItem[count];
        var at = BodyHeader;
        try
        {
            for (var i = 0; i < count; i++)
            {
                if (body.Length - at < HashSize + 1 || body.Length - at - HashSize - 1 < body[at + HashSize])
                {
                    return (null, MessageRejection.Malformed, opened);
                }

                var versionLength = body[at + HashSize];
                var version = versionLength == 0 ? null : StrictUtf8.GetString(body.Slice(at + HashSize + 1, versionLength));
                items[i] = new BackplaneItem(body.Slice(at, HashSize).ToArray(), version);
                at += HashSize + 1 + versionLength;
            }
        }
        catch (DecoderFallbackException)
        {
            return (null, MessageRejection.Malformed, opened);
        }

        return at != body.Length
            ? (null, MessageRejection.Malformed, opened)
            : (new BackplaneMessage(kind, new Guid(body[..16]), opened.KeyId, items), MessageRejection.None, opened);
    }
}

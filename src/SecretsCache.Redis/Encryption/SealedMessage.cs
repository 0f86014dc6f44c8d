using System.Buffers.Binary;
using System.Security.Cryptography;

namespace SecretsCache.Redis.Encryption;

/// <summary>Why a received message was dropped.</summary>
internal enum MessageRejection
{
    None,

    /// <summary>Not a message of this format: wrong length, unknown type, a body that does not parse.</summary>
    Malformed,

    /// <summary>Sealed under a key id this instance does not have (another instance rotated first, or a made-up id).</summary>
    UnknownKey,

    /// <summary>The tag does not match: not made with the namespace key.</summary>
    Forged,

    /// <summary>Sent further from this instance's clock than <see cref="RedisL2Options.MaxClockSkew"/>, either way.</summary>
    Stale,

    /// <summary>Its id was seen already: the same message delivered again.</summary>
    Replayed,

    /// <summary>
    /// Inside the window, but older than what the bounded memory of seen ids still covers (more messages arrived within the
    /// window than it holds): it could be a replay, so it is refused.
    /// </summary>
    Crowded,

    /// <summary>The first format (no send time, no id; written by builds before it was replaced): it cannot be told from a replay.</summary>
    FirstFormat,
}

/// <summary>When a message was sent (Unix milliseconds, the sender's clock) and its random id: what tells a replay.</summary>
internal readonly record struct MessageStamp(long SentAtMs, UInt128 Id);

/// <summary>The authenticated header of a message that passed <see cref="SealedMessage.Open"/> (its key id also when the key is unknown).</summary>
internal readonly record struct OpenedMessage(byte Type, ulong KeyId, MessageStamp Stamp);

/// <summary>
/// The frame of every message the instances send each other over Redis (backplane, lease results): format (1) | type (1) |
/// key id (8) | send time, Unix ms (8) | random message id (16) | body | tag (16: HMAC-SHA256 under the namespace's message
/// key over a label naming the channel and everything before the tag, truncated). The tag makes a message that was not made
/// with the key a forgery; the send time and id, which it covers, let a receiver refuse one delivered again
/// (<see cref="ReplayGuard"/>); the label keeps a message of one channel from passing on another.
/// </summary>
internal static class SealedMessage
{
    /// <summary>The format that carries a send time and an id.</summary>
    public const byte Format = 2;

    /// <summary>The format before it: refused (<see cref="MessageRejection.FirstFormat"/>).</summary>
    public const byte FirstFormat = 1;

    public const int HeaderSize = 1 + 1 + 8 + 8 + 16, TagSize = 16, Overhead = HeaderSize + TagSize;

    /// <summary>Seals <paramref name="body"/> under <paramref name="key"/> with a fresh random id, sent at <paramref name="sentAt"/>.</summary>
    public static byte[] Seal(RingKey key, ReadOnlySpan<byte> label, byte type, DateTimeOffset sentAt, ReadOnlySpan<byte> body)
    {
        var output = new byte[Overhead + body.Length];
        var span = output.AsSpan();
        span[0] = Format;
        span[1] = type;
        BinaryPrimitives.WriteUInt64BigEndian(span[2..], key.Id);
        BinaryPrimitives.WriteInt64BigEndian(span[10..], sentAt.ToUnixTimeMilliseconds());
        RandomNumberGenerator.Fill(span.Slice(18, 16));
        body.CopyTo(span[HeaderSize..]);
        Tag(key, label, span[..^TagSize], span[^TagSize..]);
        return output;
    }

    /// <summary>
    /// Checks the frame of a message from Redis (length, format, key, tag); every byte is hostile, and nothing here throws. The
    /// body (<see cref="Body"/>) and the type are the caller's to check; the stamp is for a <see cref="ReplayGuard"/>.
    /// </summary>
    public static MessageRejection Open(KeyRing ring, ReadOnlySpan<byte> label, ReadOnlySpan<byte> data, int maxLength, out OpenedMessage opened)
    {
        opened = default;
        // The length first: a flood of huge messages costs a comparison each, not an HMAC over each.
        if (data.Length is 0 || data.Length > maxLength)
        {
            return MessageRejection.Malformed;
        }

        if (data[0] != Format || data.Length < Overhead)
        {
            return data[0] == FirstFormat ? MessageRejection.FirstFormat : MessageRejection.Malformed;
        }

        var keyId = BinaryPrimitives.ReadUInt64BigEndian(data[2..]);
        var stamp = new MessageStamp(BinaryPrimitives.ReadInt64BigEndian(data[10..]), BinaryPrimitives.ReadUInt128BigEndian(data[18..]));
        opened = new OpenedMessage(data[1], keyId, stamp);
        if (ring.Find(keyId) is not { } key)
        {
            return MessageRejection.UnknownKey;
        }

        Span<byte> expected = stackalloc byte[TagSize];
        Tag(key, label, data[..^TagSize], expected);
        return CryptographicOperations.FixedTimeEquals(expected, data[^TagSize..]) ? MessageRejection.None : MessageRejection.Forged;
    }

    /// <summary>The body of a framed message (between header and tag).</summary>
    public static ReadOnlySpan<byte> Body(ReadOnlySpan<byte> data) => data[HeaderSize..^TagSize];

    private static void Tag(RingKey key, ReadOnlySpan<byte> label, ReadOnlySpan<byte> message, Span<byte> tag)
    {
        Span<byte> full = stackalloc byte[32];
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key.MessageKey);
        hmac.AppendData(label);
        hmac.AppendData(message);
        hmac.GetHashAndReset(full);
        full[..TagSize].CopyTo(tag);
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace SecretsCache.Redis.Encryption;

/// <summary>Why an envelope did not open. Every one of them is a miss: the value is fetched from AWS again.</summary>
internal enum OpenFailure
{
    None,

    /// <summary>Not an envelope of this format (truncated, wrong version, lengths that do not add up).</summary>
    Malformed,

    /// <summary>Sealed under a key this instance does not have (another instance rotated first, or a foreign writer).</summary>
    UnknownKey,

    /// <summary>The tag does not authenticate: the ciphertext, the header or the binding (namespace, key) was changed.</summary>
    Forged,

    /// <summary>Authentic, but past its expiry.</summary>
    Expired,

    /// <summary>Authentic, but not the version the reader asked for.</summary>
    VersionMismatch,
}

/// <summary>The outcome of opening an envelope: an entry, or why not (never an exception).</summary>
internal readonly record struct OpenResult(L2Entry? Entry, OpenFailure Failure, ulong KeyId = 0)
{
    public static OpenResult Fail(OpenFailure failure, ulong keyId = 0) => new(null, failure, keyId);
}

/// <summary>
/// AES-256-GCM envelopes. Layout: format (1) | key id (8) | nonce (12) | fetched-at ms (8) | expires-at ms (8) | version
/// length (1) | version | ciphertext | tag (16). The associated data binds the namespace, the canonical key and the whole
/// header (key id, fetch time, expiry, version), so an envelope opens only under the key name it was written for, and
/// neither its expiry nor its version can be changed.
/// </summary>
internal static class EntryEnvelope
{
    public const byte Format = 1;

    /// <summary>
    /// The longest envelope written or read: 512 KiB, twice the largest a secret can make (a 65,536-character SecretString
    /// in UTF-8, a 2,048-character name and ARN, 20 stages). Redis is read only up to here, so a huge value planted under an
    /// entry's name costs a bounded read and is a miss; a longer secret (a custom source) is not cached in Redis.
    /// </summary>
    public const int MaxLength = 512 * 1024;

    private const int NonceSize = 12, TagSize = 16, FixedHeader = 1 + 8 + NonceSize + 8 + 8 + 1;
    private static readonly byte[] Label = Encoding.UTF8.GetBytes("secretscache-redis/v1/entry");

    public static byte[] Seal(RingKey key, string @namespace, string canonicalKey, L2Entry entry)
    {
        var version = entry.Version is null ? [] : Encoding.UTF8.GetBytes(entry.Version);
        if (version.Length > byte.MaxValue)
        {
            throw new ArgumentException("A version id is longer than AWS allows.", nameof(entry));
        }

        var plaintext = SecretCodec.Encode(entry.Secret);
        try
        {
            var headerLength = FixedHeader + version.Length;
            if ((long)headerLength + plaintext.Length + TagSize > MaxLength)
            {
                throw new ArgumentException($"An entry is longer than {MaxLength} bytes.", nameof(entry));
            }

            var output = new byte[headerLength + plaintext.Length + TagSize];
            var span = output.AsSpan();
            span[0] = Format;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], key.Id);
            var nonce = span.Slice(9, NonceSize);
            RandomNumberGenerator.Fill(nonce);
            BinaryPrimitives.WriteInt64BigEndian(span[21..], entry.FetchedAt.ToUnixTimeMilliseconds());
            BinaryPrimitives.WriteInt64BigEndian(span[29..], entry.ExpiresAt.ToUnixTimeMilliseconds());
            span[37] = (byte)version.Length;
            version.CopyTo(span[FixedHeader..]);
            var header = span[..headerLength];
            using var aes = new AesGcm(key.EncryptionKey, TagSize);
            aes.Encrypt(nonce, plaintext, span.Slice(headerLength, plaintext.Length), span[^TagSize..],
                AssociatedData(@namespace, canonicalKey, header));
            return output;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    /// <summary>
    /// Opens an envelope read under <paramref name="canonicalKey"/>'s name. Fails (never throws) when it is not authentic
    /// for that key in this namespace, when it expired by <paramref name="now"/>, or when it is not <paramref name="expectedVersion"/>.
    /// </summary>
    public static OpenResult Open(KeyRing ring, string @namespace, string canonicalKey, ReadOnlySpan<byte> envelope, DateTimeOffset now, string? expectedVersion = null)
    {
        if (envelope.Length is < FixedHeader + TagSize or > MaxLength || envelope[0] != Format)
        {
            return OpenResult.Fail(OpenFailure.Malformed);
        }

        var headerLength = FixedHeader + envelope[37];
        if (envelope.Length < headerLength + TagSize)
        {
            return OpenResult.Fail(OpenFailure.Malformed);
        }

        var keyId = BinaryPrimitives.ReadUInt64BigEndian(envelope[1..]);
        if (ring.Find(keyId) is not { } key)
        {
            return OpenResult.Fail(OpenFailure.UnknownKey, keyId);
        }

        var header = envelope[..headerLength];
        var ciphertext = envelope[headerLength..^TagSize];
        var plaintext = new byte[ciphertext.Length];
        try
        {
            using (var aes = new AesGcm(key.EncryptionKey, TagSize))
            {
                try
                {
                    aes.Decrypt(envelope.Slice(9, NonceSize), ciphertext, envelope[^TagSize..], plaintext, AssociatedData(@namespace, canonicalKey, header));
                }
                catch (AuthenticationTagMismatchException)
                {
                    return OpenResult.Fail(OpenFailure.Forged, keyId);
                }
            }

            // Authentic from here on: the header is what the writer wrote.
            var fetchedMs = BinaryPrimitives.ReadInt64BigEndian(envelope[21..]);
            var expiresMs = BinaryPrimitives.ReadInt64BigEndian(envelope[29..]);
            if (!TryTime(fetchedMs, out var fetchedAt) || !TryTime(expiresMs, out var expiresAt) || expiresAt < fetchedAt)
            {
                return OpenResult.Fail(OpenFailure.Malformed, keyId);
            }

            if (now >= expiresAt)
            {
                return OpenResult.Fail(OpenFailure.Expired, keyId);
            }

            if (SecretCodec.Decode(plaintext, fetchedAt) is not { } secret
                || !VersionMatches(secret.Version, envelope.Slice(FixedHeader, headerLength - FixedHeader)))
            {
                return OpenResult.Fail(OpenFailure.Malformed, keyId);
            }

            if (expectedVersion is not null && !string.Equals(secret.Version, expectedVersion, StringComparison.Ordinal))
            {
                return OpenResult.Fail(OpenFailure.VersionMismatch, keyId);
            }

            return new OpenResult(new L2Entry(secret, fetchedAt, expiresAt), OpenFailure.None, keyId);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static byte[] AssociatedData(string @namespace, string canonicalKey, ReadOnlySpan<byte> header)
    {
        var ns = Encoding.UTF8.GetBytes(@namespace);
        var key = Encoding.UTF8.GetBytes(canonicalKey);
        var data = new byte[Label.Length + 4 + ns.Length + 4 + key.Length + header.Length];
        var span = data.AsSpan();
        Label.CopyTo(span);
        var at = Label.Length;
        foreach (var part in (ReadOnlySpan<byte[]>)[ns, key])
        {
            BinaryPrimitives.WriteInt32BigEndian(span[at..], part.Length);
            part.CopyTo(span[(at + 4)..]);
            at += 4 + part.Length;
        }

        header.CopyTo(span[at..]);
        return data;
    }

    private static bool VersionMatches(string? version, ReadOnlySpan<byte> headerVersion) =>
        version is null ? headerVersion.IsEmpty : Encoding.UTF8.GetBytes(version).AsSpan().SequenceEqual(headerVersion);

    private static bool TryTime(long milliseconds, out DateTimeOffset time)
    {
        time = default;
        if (milliseconds < 0 || milliseconds > DateTimeOffset.MaxValue.ToUnixTimeMilliseconds())
        {
            return false;
        }

        time = DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
        return true;
    }
}

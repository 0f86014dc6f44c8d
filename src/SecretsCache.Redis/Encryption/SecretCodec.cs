using System.Buffers.Binary;
using System.Text;

namespace SecretsCache.Redis.Encryption;

/// <summary>
/// A <see cref="Secret"/> as bytes (the plaintext of an envelope) and back. Decoding trusts nothing: even an authenticated
/// plaintext is read with every length checked, and anything that does not parse is <see langword="null"/>, never an exception.
/// </summary>
internal static class SecretCodec
{
    private const byte Binary = 1, HasArn = 2, HasVersionId = 4, HasParameterVersion = 8;
    private const int MaxStages = 32;
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static byte[] Encode(Secret secret)
    {
        var value = secret.GetBytes().Span;
        var name = Encoding.UTF8.GetBytes(secret.Name);
        var arn = secret.Arn is null ? [] : Encoding.UTF8.GetBytes(secret.Arn);
        var versionId = secret.VersionId is null ? [] : Encoding.UTF8.GetBytes(secret.VersionId);
        var stages = secret.VersionStages.Take(MaxStages).Select(Encoding.UTF8.GetBytes).ToArray();
        var length = 1 + Short(name) + Short(arn) + Short(versionId) + 8 + 1 + stages.Sum(Short) + 4 + value.Length;
        var output = new byte[length];
        var span = output.AsSpan();
        span[0] = (byte)((secret.IsBinary ? Binary : 0) | (secret.Arn is null ? 0 : HasArn) | (secret.VersionId is null ? 0 : HasVersionId)
            | (secret.ParameterVersion is null ? 0 : HasParameterVersion));
        var at = 1;
        WriteShort(span, ref at, name);
        WriteShort(span, ref at, arn);
        WriteShort(span, ref at, versionId);
        BinaryPrimitives.WriteInt64BigEndian(span[at..], secret.ParameterVersion ?? 0);
        at += 8;
        span[at++] = (byte)stages.Length;
        foreach (var stage in stages)
        {
            WriteShort(span, ref at, stage);
        }

        BinaryPrimitives.WriteInt32BigEndian(span[at..], value.Length);
        at += 4;
        value.CopyTo(span[at..]);
        return output;
    }

    /// <summary>The secret, fetched at <paramref name="fetchedAt"/>; null when the bytes are not an encoded secret.</summary>
    public static Secret? Decode(ReadOnlySpan<byte> data, DateTimeOffset fetchedAt)
    {
        try
        {
            if (data.Length < 1)
            {
                return null;
            }

            var flags = data[0];
            var at = 1;
            if (!ReadShort(data, ref at, out var name) || name.Length == 0
                || !ReadShort(data, ref at, out var arn) || !ReadShort(data, ref at, out var versionId)
                || data.Length - at < 9)
            {
                return null;
            }

            var parameterVersion = BinaryPrimitives.ReadInt64BigEndian(data[at..]);
            at += 8;
            var stageCount = data[at++];
            if (stageCount > MaxStages)
            {
                return null;
            }

            var stages = new string[stageCount];
            for (var i = 0; i < stageCount; i++)
            {
                if (!ReadShort(data, ref at, out var stage))
                {
                    return null;
                }

                stages[i] = StrictUtf8.GetString(stage);
            }

            if (data.Length - at < 4)
            {
                return null;
            }

            var valueLength = BinaryPrimitives.ReadInt32BigEndian(data[at..]);
            at += 4;
            if (valueLength < 0 || valueLength != data.Length - at)
            {
                return null;
            }

            var value = data.Slice(at, valueLength);
            var nameText = StrictUtf8.GetString(name);
            var arnText = (flags & HasArn) != 0 ? StrictUtf8.GetString(arn) : null;
            var versionIdText = (flags & HasVersionId) != 0 ? StrictUtf8.GetString(versionId) : null;
            long? parameter = (flags & HasParameterVersion) != 0 ? parameterVersion : null;
            return (flags & Binary) != 0
                ? new Secret(nameText, value) { Arn = arnText, VersionId = versionIdText, ParameterVersion = parameter, VersionStages = stages, FetchedAt = fetchedAt }
                : new Secret(nameText, StrictUtf8.GetString(value)) { Arn = arnText, VersionId = versionIdText, ParameterVersion = parameter, VersionStages = stages, FetchedAt = fetchedAt };
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static int Short(byte[] bytes) => 2 + bytes.Length;

    private static void WriteShort(Span<byte> span, ref int at, byte[] bytes)
    {
        if (bytes.Length > ushort.MaxValue)
        {
            throw new ArgumentException("A name, ARN, version id or stage is longer than AWS allows.");
        }

        BinaryPrimitives.WriteUInt16BigEndian(span[at..], (ushort)bytes.Length);
        bytes.CopyTo(span[(at + 2)..]);
        at += 2 + bytes.Length;
    }

    private static bool ReadShort(ReadOnlySpan<byte> data, ref int at, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (data.Length - at < 2)
        {
            return false;
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(data[at..]);
        if (data.Length - at - 2 < length)
        {
            return false;
        }

        value = data.Slice(at + 2, length);
        at += 2 + length;
        return true;
    }
}

using System.Security.Cryptography;

namespace SecretsCache.Testing.Signing;

/// <summary>Lowercase hex, as SigV4 spells hashes.</summary>
internal static class Hex
{
    public static string Lower(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[2 * i] = Digit(bytes[i] >> 4);
            chars[(2 * i) + 1] = Digit(bytes[i] & 0xF);
        }

        return new string(chars);
    }

    public static string Sha256(ReadOnlySpan<byte> data) => Lower(SHA256.HashData(data));

    private static char Digit(int value) => (char)(value < 10 ? '0' + value : 'a' + value - 10);
}

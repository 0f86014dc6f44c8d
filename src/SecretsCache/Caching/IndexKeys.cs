using SecretsCache.References;

namespace SecretsCache.Caching;

/// <summary>
/// The two spellings an entry may be keyed by in the index: its canonical text, and its plain name (the canonical text less
/// <c>sm:</c>, wherever the rest reads as the same reference). An entry is keyed by whichever of the two it was first read
/// by, the caller's own string, so neither <c>app/db</c> (as the docs write it) nor <c>sm:app/db</c> keeps a second string
/// or an alias; reading it by the other spelling adds that one as an alias. Lookups by canonical text try both.
/// </summary>
internal static class IndexKeys
{
    /// <summary>The plain name of the reference whose canonical text is <paramref name="canonical"/>, or that text itself when it has none.</summary>
    public static string Of(string canonical) => IsPlainable(canonical) ? canonical[ReferenceParser.SecretsManagerScheme.Length..] : canonical;

    /// <summary>The canonical text of the entry keyed by <paramref name="indexKey"/> (allocates for a plain name: off the hit path).</summary>
    public static string CanonicalOf(string indexKey) =>
        indexKey.StartsWith(ReferenceParser.SecretsManagerScheme, StringComparison.Ordinal) || indexKey.StartsWith(ReferenceParser.ParameterStoreScheme, StringComparison.Ordinal)
            ? indexKey
            : ReferenceParser.SecretsManagerScheme + indexKey;

    // Without its prefix, a Secrets Manager reference reads as itself unless its name starts like a passthrough path (which a
    // plain text means as Parameter Store); names hold no ':' and ARNs parse alike with or without "sm:" (ReferenceParser).
    private static bool IsPlainable(string canonical) =>
        canonical.StartsWith(ReferenceParser.SecretsManagerScheme, StringComparison.Ordinal)
        && !canonical.AsSpan(ReferenceParser.SecretsManagerScheme.Length).StartsWith(ReferenceParser.PassthroughPrefix, StringComparison.Ordinal);
}

using SecretsCache.References;

namespace SecretsCache.Caching;

/// <summary>
/// The key an entry has in the index: its canonical text, less the <c>sm:</c> prefix wherever the rest reads as the same
/// reference. So a secret read by its plain name (<c>app/db</c>, as the docs write it) is indexed under the caller's own
/// string, and the entry keeps neither a second string nor an alias for it; <c>sm:app/db</c> becomes the alias instead.
/// </summary>
internal static class IndexKeys
{
    /// <summary>The index key of the reference whose canonical text is <paramref name="canonical"/>.</summary>
    public static string Of(string canonical) => IsPlainable(canonical) ? canonical[ReferenceParser.SecretsManagerScheme.Length..] : canonical;

    /// <summary>The canonical text of the entry indexed under <paramref name="indexKey"/> (allocates for a plain name: off the hit path).</summary>
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

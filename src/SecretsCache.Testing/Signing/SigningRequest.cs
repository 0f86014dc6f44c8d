namespace SecretsCache.Testing.Signing;

/// <summary>A request exactly as it arrived: method, raw request target, header lines in order (a repeated header
/// appears once per line) and the SHA-256 of the body as lowercase hex.</summary>
internal sealed record SigningRequest(
    string Method,
    string RawTarget,
    IReadOnlyList<KeyValuePair<string, string>> Headers,
    string BodySha256)
{
    /// <summary>All values of a header (case-insensitive name), in arrival order.</summary>
    public IEnumerable<string> Values(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value);

    public string? First(string name) => Values(name).FirstOrDefault();
}

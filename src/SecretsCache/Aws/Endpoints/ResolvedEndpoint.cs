using SecretsCache.Aws.Signing;

namespace SecretsCache.Aws.Endpoints;

/// <summary>Where to send requests and how to sign them.</summary>
/// <param name="Url">An absolute base URL ending in <c>/</c>; JSON 1.1 requests are <c>POST</c>ed to it as is.</param>
/// <param name="SigningRegion">The SigV4 region.</param>
/// <param name="SigningService">The SigV4 service name: <c>secretsmanager</c> or <c>ssm</c>.</param>
internal sealed record ResolvedEndpoint(Uri Url, string SigningRegion, string SigningService)
{
    /// <summary>The Host header as signed, computed once rather than per request.</summary>
    public string SignedHost { get; } = RequestSigner.HostOf(Url);

    /// <summary>Whether requests go to <c>/</c> without a query (every AWS endpoint), which the signer signs without building the canonical path.</summary>
    public bool AtRoot { get; } = Url.AbsolutePath == "/" && Url.Query.Length == 0;
}

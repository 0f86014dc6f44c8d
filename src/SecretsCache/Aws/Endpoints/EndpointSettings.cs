namespace SecretsCache.Aws.Endpoints;

/// <summary>The endpoint choices made in options.</summary>
/// <param name="ServiceUrl">A custom endpoint; it wins over every endpoint environment variable. Null or blank means none.</param>
/// <param name="UseFips">Use the FIPS endpoint. <c>AWS_USE_FIPS_ENDPOINT=true</c> also turns it on.</param>
/// <param name="UseDualStack">Use the dual-stack (IPv4 and IPv6) endpoint. <c>AWS_USE_DUALSTACK_ENDPOINT=true</c> also turns it on.</param>
internal sealed record EndpointSettings(string? ServiceUrl, bool UseFips, bool UseDualStack);

namespace SecretsCache.Testing.Signing;

/// <summary>The parts of a SigV4 <c>Authorization</c> header:
/// <c>AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=hex</c>.</summary>
internal sealed record AuthorizationHeader(
    string Algorithm,
    string AccessKeyId,
    string ScopeDate,
    string ScopeRegion,
    string ScopeService,
    string ScopeTerminator,
    IReadOnlyList<string> SignedHeaders,
    string Signature)
{
    public const string Sigv4Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>Parses the header, or returns the AWS <c>IncompleteSignatureException</c> text that explains what is missing.</summary>
    public static AuthorizationHeader? TryParse(string value, out string? problem)
    {
        problem = null;
        var space = value.IndexOf(' ', StringComparison.Ordinal);
        var algorithm = space < 0 ? value : value[..space];
        if (!string.Equals(algorithm, Sigv4Algorithm, StringComparison.Ordinal))
        {
            problem = $"Unsupported AWS 'algorithm': '{algorithm}'. Only '{Sigv4Algorithm}' is supported.";
            return null;
        }

        string? credential = null, signedHeaders = null, signature = null;
        foreach (var part in value[(space + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals < 0)
            {
                continue;
            }

            var key = part[..equals].Trim();
            var text = part[(equals + 1)..].Trim();
            switch (key)
            {
                case "Credential": credential = text; break;
                case "SignedHeaders": signedHeaders = text; break;
                case "Signature": signature = text; break;
                default: break;
            }
        }

        var missing = new List<string>();
        if (credential is null)
        {
            missing.Add("Authorization header requires 'Credential' parameter.");
        }

        if (signature is null)
        {
            missing.Add("Authorization header requires 'Signature' parameter.");
        }

        if (signedHeaders is null)
        {
            missing.Add("Authorization header requires 'SignedHeaders' parameter.");
        }

        if (missing.Count > 0)
        {
            problem = string.Join(' ', missing);
            return null;
        }

        var scope = credential!.Split('/');
        if (scope.Length != 5)
        {
            problem = "Credential should be scoped to a valid key, date, region, service and terminator ('AKID/YYYYMMDD/region/service/aws4_request').";
            return null;
        }

        return new AuthorizationHeader(
            algorithm,
            scope[0],
            scope[1],
            scope[2],
            scope[3],
            scope[4],
            signedHeaders!.Split(';', StringSplitOptions.RemoveEmptyEntries),
            signature!);
    }
}

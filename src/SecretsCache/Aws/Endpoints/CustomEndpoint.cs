using System.Net;
using System.Net.Sockets;

namespace SecretsCache.Aws.Endpoints;

/// <summary>A custom endpoint and the setting it came from.</summary>
internal sealed record CustomEndpoint(Uri Url, string Source)
{
    /// <summary>The option's name as users see it in messages.</summary>
    public const string ServiceUrlSetting = "SecretsCacheOptions.Aws.ServiceUrl (or the per-service URL)";

    /// <summary>The endpoint variable for every service.</summary>
    public const string GlobalVariable = "AWS_ENDPOINT_URL";

    /// <summary>When true, every <c>AWS_ENDPOINT_URL*</c> variable is ignored (an explicit option still counts).</summary>
    public const string IgnoreVariable = "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS";

    /// <summary>
    /// The custom endpoint in force, if any: the option, then the service's own variable, then <c>AWS_ENDPOINT_URL</c>.
    /// Blank values count as unset. Only the one chosen is checked.
    /// </summary>
    public static CustomEndpoint? Find(AwsService service, string? serviceUrl, Func<string, string?> getEnvironmentVariable)
    {
        if (!string.IsNullOrWhiteSpace(serviceUrl))
        {
            return new CustomEndpoint(Parse(serviceUrl, ServiceUrlSetting), ServiceUrlSetting);
        }

        if (EnvironmentFlag.IsOn(getEnvironmentVariable, IgnoreVariable))
        {
            return null;
        }

        var variable = service.EndpointUrlVariable();
        var value = getEnvironmentVariable(variable);
        if (string.IsNullOrWhiteSpace(value))
        {
            variable = GlobalVariable;
            value = getEnvironmentVariable(variable);
        }

        return string.IsNullOrWhiteSpace(value) ? null : new CustomEndpoint(Parse(value, variable), variable);
    }

    /// <summary>
    /// Checks a custom endpoint and normalises it to a base URL ending in <c>/</c>. Messages never repeat the value,
    /// which may carry a pasted credential; only a plain-http host is named.
    /// </summary>
    public static Uri Parse(string value, string setting)
    {
        if (!Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri)
            || uri.HostNameType is not (UriHostNameType.Dns or UriHostNameType.IPv4 or UriHostNameType.IPv6)
            || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            throw Invalid(setting, "is not an absolute https:// URL (for example https://secretsmanager.us-east-1.amazonaws.com)");
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !IsLoopback(uri))
        {
            throw Invalid(setting, $"uses plain http:// to '{uri.Host}'; http:// is allowed only for loopback hosts (localhost, 127.0.0.0/8, [::1]), so use https://");
        }

        if (uri.UserInfo.Length > 0)
        {
            throw Invalid(setting, "contains user info (user@ or user:password@); credentials never belong in an endpoint URL");
        }

        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw Invalid(setting, "has a query or fragment; give only scheme, host, optional port and optional base path");
        }

        // Requests are POSTed to the base URL itself, so a base path keeps exactly one trailing slash.
        return new Uri(uri.GetLeftPart(UriPartial.Authority) + uri.AbsolutePath.TrimEnd('/') + "/");
    }

    private static bool IsLoopback(Uri uri) => uri.HostNameType switch
    {
        UriHostNameType.Dns => string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase),
        UriHostNameType.IPv4 or UriHostNameType.IPv6 => IPAddress.TryParse(uri.DnsSafeHost, out var address) && address.AddressFamily switch
        {
            AddressFamily.InterNetwork => address.GetAddressBytes()[0] == 127,
            _ => address.Equals(IPAddress.IPv6Loopback),
        },
        _ => false,
    };

    private static SecretsConfigurationException Invalid(string setting, string why) =>
        new($"The endpoint in {setting} {why}.");
}

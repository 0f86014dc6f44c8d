using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace SecretsCache.Hosting.DependencyInjection;

/// <summary>
/// Binds a configuration section onto <see cref="SecretsCacheOptions"/> by hand: AOT-safe, fills the get-only nested
/// <c>Aws</c>, <c>Retry</c>, <c>RateLimits</c> and <c>TtlByReference</c>, and reports every bad or unknown key at once.
/// </summary>
internal static class SecretsCacheOptionsBinder
{
    private static readonly string[] CredentialKeys = ["Credentials", "AccessKeyId", "AccessKey", "SecretAccessKey", "SecretKey", "SessionToken", "Profile"];

    /// <exception cref="SecretsConfigurationException">A value does not parse, a key is unknown, or credentials are configured.</exception>
    public static void Bind(IConfiguration section, SecretsCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(options);
        var path = (section as IConfigurationSection)?.Path ?? "SecretsCache";
        var errors = new List<string>();
        var reader = new Reader(path, errors);
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "DEFAULTTTL": reader.TimeSpan(child, v => options.DefaultTtl = v); break;
                case "TTLJITTER": reader.Double(child, v => options.TtlJitter = v); break;
                case "REFRESHAHEADFRACTION": reader.Double(child, v => options.RefreshAheadFraction = v); break;
                case "MAXSTALENESS": reader.TimeSpan(child, v => options.MaxStaleness = v); break;
                case "STALEFALLBACKTIMEOUT": reader.TimeSpan(child, v => options.StaleFallbackTimeout = v); break;
                case "NEGATIVETTL": reader.TimeSpan(child, v => options.NegativeTtl = v); break;
                case "MAXENTRIES": reader.Int(child, v => options.MaxEntries = v); break;
                case "FAILUREBACKOFF": reader.TimeSpan(child, v => options.FailureBackoff = v); break;
                case "MAXFAILUREBACKOFF": reader.TimeSpan(child, v => options.MaxFailureBackoff = v); break;
                case "FETCHTIMEOUT": reader.TimeSpan(child, v => options.FetchTimeout = v); break;
                case "INCLUDENAMESINTELEMETRY": reader.Bool(child, v => options.IncludeNamesInTelemetry = v); break;
                case "TTLBYREFERENCE": BindTtls(child, options, reader); break;
                case "AWS": BindAws(child, options.Aws, reader); break;
                case "RETRY": BindRetry(child, options.Retry, reader); break;
                case "RATELIMITS": BindRateLimits(child, options.RateLimits, reader); break;
                // A sub-section is a named provider's options (SecretsCache:eu:...), bound by that registration.
                default: if (child.Value is not null) { reader.Unknown(child); } break;
            }
        }

        if (errors.Count > 0)
        {
            throw new SecretsConfigurationException($"Invalid SecretsCache configuration in '{path}': {string.Join(" ", errors)}");
        }
    }

    private static void BindTtls(IConfigurationSection section, SecretsCacheOptions options, Reader reader)
    {
        // A reference such as "ssm:/app/x" contains ':', which configuration splits into nested keys; the relative path of
        // each leaf joins them back into the reference text.
        foreach (var (reference, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is null)
            {
                continue;
            }

            if (Reader.TryParseTimeSpan(value, out var ttl))
            {
                options.TtlByReference[reference] = ttl;
            }
            else
            {
                reader.Error($"{section.Path}:{reference}", "a TimeSpan such as 00:05:00");
            }
        }
    }

    private static void BindAws(IConfigurationSection section, AwsOptions aws, Reader reader)
    {
        foreach (var child in section.GetChildren())
        {
            if (CredentialKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                reader.Errors.Add($"'{child.Path}': credentials cannot come from configuration; set AwsOptions.Credentials in code or use the default AWS credential chain (environment, profile, role).");
                continue;
            }

            switch (child.Key.ToUpperInvariant())
            {
                case "REGION": aws.Region = Reader.String(child); break;
                case "SERVICEURL": aws.ServiceUrl = Reader.String(child); break;
                case "SECRETSMANAGERSERVICEURL": aws.SecretsManagerServiceUrl = Reader.String(child); break;
                case "PARAMETERSTORESERVICEURL": aws.ParameterStoreServiceUrl = Reader.String(child); break;
                case "USEFIPS": reader.Bool(child, v => aws.UseFips = v); break;
                case "USEDUALSTACK": reader.Bool(child, v => aws.UseDualStack = v); break;
                case "VERSIONAWAREREFRESH": reader.Bool(child, v => aws.VersionAwareRefresh = v); break;
                case "ATTEMPTTIMEOUT": reader.TimeSpan(child, v => aws.AttemptTimeout = v); break;
                case "MAXRESPONSEBYTES": reader.Int(child, v => aws.MaxResponseBytes = v); break;
                default: reader.Unknown(child); break;
            }
        }
    }

    private static void BindRetry(IConfigurationSection section, RetryOptions retry, Reader reader)
    {
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "MAXRETRYATTEMPTS": reader.Int(child, v => retry.MaxRetryAttempts = v); break;
                case "BASEDELAY": reader.TimeSpan(child, v => retry.BaseDelay = v); break;
                case "MAXTHROTTLINGRETRYATTEMPTS": reader.Int(child, v => retry.MaxThrottlingRetryAttempts = v); break;
                case "THROTTLINGBASEDELAY": reader.TimeSpan(child, v => retry.ThrottlingBaseDelay = v); break;
                case "MAXDELAY": reader.TimeSpan(child, v => retry.MaxDelay = v); break;
                case "TOTALTIMEOUT": reader.TimeSpan(child, v => retry.TotalTimeout = v); break;
                case "BREAKDURATION": reader.TimeSpan(child, v => retry.BreakDuration = v); break;
                default: reader.Unknown(child); break;
            }
        }
    }

    private static void BindRateLimits(IConfigurationSection section, RateLimitOptions limits, Reader reader)
    {
        foreach (var child in section.GetChildren())
        {
            switch (child.Key.ToUpperInvariant())
            {
                case "SECRETSMANAGERREQUESTSPERSECOND": reader.Double(child, v => limits.SecretsManagerRequestsPerSecond = v); break;
                case "PARAMETERSTOREREQUESTSPERSECOND": reader.Double(child, v => limits.ParameterStoreRequestsPerSecond = v); break;
                case "QUEUELIMIT": reader.Int(child, v => limits.QueueLimit = v); break;
                case "BEHAVIOR":
                    if (Enum.TryParse<RateLimitBehavior>(child.Value, ignoreCase: true, out var behavior) && Enum.IsDefined(behavior))
                    {
                        limits.Behavior = behavior;
                    }
                    else
                    {
                        reader.Error(child.Path, "Wait or FailFast");
                    }

                    break;
                default: reader.Unknown(child); break;
            }
        }
    }

    private sealed class Reader(string root, List<string> errors)
    {
        public List<string> Errors => errors;

        public static string? String(IConfigurationSection section) => string.IsNullOrWhiteSpace(section.Value) ? null : section.Value.Trim();

        public void TimeSpan(IConfigurationSection section, Action<TimeSpan> set)
        {
            if (TryParseTimeSpan(section.Value, out var value))
            {
                set(value);
            }
            else
            {
                Error(section.Path, "a TimeSpan such as 00:05:00");
            }
        }

        public void Double(IConfigurationSection section, Action<double> set)
        {
            if (double.TryParse(section.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                set(value);
            }
            else
            {
                Error(section.Path, "a number such as 0.5");
            }
        }

        public void Int(IConfigurationSection section, Action<int> set)
        {
            if (int.TryParse(section.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value))
            {
                set(value);
            }
            else
            {
                Error(section.Path, "a whole number");
            }
        }

        public void Bool(IConfigurationSection section, Action<bool> set)
        {
            if (bool.TryParse(section.Value, out var value))
            {
                set(value);
            }
            else
            {
                Error(section.Path, "true or false");
            }
        }

        public static bool TryParseTimeSpan(string? text, out TimeSpan value) =>
            System.TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);

        public void Error(string path, string expected) => errors.Add($"'{path}' must be {expected}.");

        public void Unknown(IConfigurationSection section) =>
            errors.Add($"'{section.Path}' is not a SecretsCache option (see {root} in the README's option table).");
    }
}

using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace SecretsCache.Hosting.DependencyInjection;

/// <summary>
/// Binds configuration onto <see cref="SecretsCacheOptions"/> with the configuration binding source generator (AOT-safe, and
/// complete by construction: a new option binds without a line here). Around it, this class only: checks each key on its own so
/// that every bad or unknown key is reported at once, by path and never by value; refuses what must not come from
/// configuration (credentials, code-only hooks); skips the sections of named providers; reads <c>TtlByReference</c>, whose
/// keys (references such as <c>ssm:/app/x</c>) configuration would split at ':'; and reads AWS's own <c>AWS</c> section.
/// </summary>
internal static class SecretsCacheOptionsBinder
{
    /// <summary>Keys that would put key material in configuration files. A profile name is not key material: see <see cref="AwsOptions.Profile"/>.</summary>
    private static readonly string[] CredentialKeys = ["Credentials", "AccessKeyId", "AccessKey", "SecretAccessKey", "SecretKey", "SessionToken"];

    private static readonly string[] CodeOnlyKeys = ["TimeProvider"];

    /// <summary>Sections that packages built on the core bind themselves.</summary>
    private static readonly string[] ExtensionSections = ["Redis"];

    /// <summary>
    /// Binds <paramref name="section"/> onto <paramref name="options"/>. Child sections named in <paramref name="providerNames"/>
    /// belong to named providers and are skipped, and so is any other child section that holds only valid options.
    /// </summary>
    /// <exception cref="SecretsConfigurationException">A value does not parse, a key is unknown, or credentials are configured.</exception>
    public static void Bind(IConfiguration section, SecretsCacheOptions options, IReadOnlyCollection<string>? providerNames = null)
    {
        ArgumentNullException.ThrowIfNull(section);
        ArgumentNullException.ThrowIfNull(options);
        var path = (section as IConfigurationSection)?.Path ?? Microsoft.Extensions.DependencyInjection.SecretsCacheServiceCollectionExtensions.DefaultSectionName;
        var errors = new List<string>();
        var accepted = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (providerNames?.Contains(child.Key, StringComparer.OrdinalIgnoreCase) == true)
            {
                continue; // a named provider's section, bound by that registration
            }

            if (ExtensionSections.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue; // a package's own section, bound by that package (SecretsCache:Redis: AddSecretsCacheRedis)
            }

            if (string.Equals(child.Key, nameof(SecretsCacheOptions.TtlByReference), StringComparison.OrdinalIgnoreCase))
            {
                BindTtls(child, options, errors);
                continue;
            }

            // A section that is not an option and holds only valid options is another named provider's (SecretsCache:eu:...),
            // perhaps of another app sharing the file; otherwise it is a mistake, such as a misspelt "Retyr".
            var named = child.Value is null && !IsOptionSection(child.Key);
            var problems = new List<string>();
            foreach (var (key, value) in child.AsEnumerable())
            {
                if (value is null)
                {
                    continue;
                }

                var root = named ? child.Path : path;
                var relative = key[(root.Length + 1)..];
                var segments = relative.Split(':');
                var credential = Array.FindIndex(segments, s => CredentialKeys.Contains(s, StringComparer.OrdinalIgnoreCase));
                if (credential >= 0)
                {
                    // Named at the credential key itself (a nested section is one problem), and never with its value.
                    var at = root + ":" + string.Join(':', segments[..(credential + 1)]);
                    var refusal = $"'{at}': credentials cannot come from configuration; set AwsOptions.Credentials in code, or use a profile (AWS:Profile) or the default AWS credential chain (environment, role).";
                    if (!problems.Contains(refusal))
                    {
                        problems.Add(refusal);
                    }

                    continue;
                }

                var problem = Check(relative, value);
                if (problem is null)
                {
                    if (!named)
                    {
                        accepted[relative] = value;
                    }
                }
                else
                {
                    problems.Add($"'{key}' {(named ? "is not a SecretsCache option (see the README's option table)." : problem)}");
                }
            }

            errors.AddRange(problems);
        }

        if (errors.Count > 0)
        {
            throw new SecretsConfigurationException($"Invalid SecretsCache configuration in '{path}': {string.Join(" ", errors)}");
        }

        new ConfigurationBuilder().AddInMemoryCollection(accepted).Build().Bind(options);
    }

    /// <summary>
    /// Reads AWS's own section (<c>"AWS": { "Region", "Profile", "ProfilesLocation" }</c>, the keys AWSSDK.Extensions.NETCore.Setup
    /// reads), for what the <c>SecretsCache</c> section leaves unset. Other keys there belong to other AWS clients and are ignored.
    /// </summary>
    public static void BindAwsSection(IConfiguration root, SecretsCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(options);
        var aws = root.GetSection("AWS");
        options.Aws.Region ??= Value(aws, "Region");
        options.Aws.Profile ??= Value(aws, "Profile");
        options.Aws.ProfilesLocation ??= Value(aws, "ProfilesLocation");
    }

    private static string? Value(IConfigurationSection section, string key) => section[key] is { } value && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

    private static bool IsOptionSection(string key) =>
        key.Equals(nameof(SecretsCacheOptions.Aws), StringComparison.OrdinalIgnoreCase)
        || key.Equals(nameof(SecretsCacheOptions.Retry), StringComparison.OrdinalIgnoreCase)
        || key.Equals(nameof(SecretsCacheOptions.RateLimits), StringComparison.OrdinalIgnoreCase)
        || key.Equals(nameof(SecretsCacheOptions.TtlByReference), StringComparison.OrdinalIgnoreCase);

    /// <summary>One key on its own through the generated binder: null when it binds, else what is wrong, without the value.</summary>
    private static string? Check(string relativeKey, string value)
    {
        var segments = relativeKey.Split(':');
        if (segments.Any(s => CodeOnlyKeys.Contains(s, StringComparer.OrdinalIgnoreCase)))
        {
            return "can only be set in code.";
        }

        try
        {
            var scratch = new SecretsCacheOptions();
            new ConfigurationBuilder().AddInMemoryCollection([new(relativeKey, value)]).Build().Bind(scratch, static o => o.ErrorOnUnknownConfiguration = true);

            // Enum parsing accepts any number; only named values are options.
            return Enum.IsDefined(scratch.RateLimits.Behavior) ? null : $"must be {string.Join(" or ", Enum.GetNames<RateLimitBehavior>())}.";
        }
        catch (InvalidOperationException ex) when (ex.InnerException is null)
        {
            return "is not a SecretsCache option (see the README's option table).";
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message quotes the value, so only the target type is taken from it.
            return $"must be {Expected(ex.Message)}.";
        }
    }

    private static string Expected(string binderMessage)
    {
        const string marker = "to type '";
        var start = binderMessage.LastIndexOf(marker, StringComparison.Ordinal);
        var type = start < 0 ? string.Empty : binderMessage[(start + marker.Length)..].TrimEnd('.', '\'');
        return type switch
        {
            "System.TimeSpan" => "a TimeSpan such as 00:05:00",
            "System.Int32" or "int" => "a whole number",
            "System.Double" or "double" => "a number such as 0.5",
            "System.Boolean" or "bool" => "true or false",
            _ when type == typeof(RateLimitBehavior).FullName => string.Join(" or ", Enum.GetNames<RateLimitBehavior>()),
            _ => "a value of the option's type",
        };
    }

    private static void BindTtls(IConfigurationSection section, SecretsCacheOptions options, List<string> errors)
    {
        // A reference such as "ssm:/app/x" contains ':', which configuration splits into nested keys; the relative path of
        // each leaf joins them back into the reference text.
        foreach (var (reference, value) in section.AsEnumerable(makePathsRelative: true))
        {
            if (value is null)
            {
                continue;
            }

            if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var ttl))
            {
                options.TtlByReference[reference] = ttl;
            }
            else
            {
                errors.Add($"'{section.Path}:{reference}' must be a TimeSpan such as 00:05:00.");
            }
        }
    }
}

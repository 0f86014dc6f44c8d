using Microsoft.Extensions.Options;

namespace SecretsCache.Composition;

/// <summary>
/// The one validation of the options. What an attribute on an option can say (a range, a required value) is checked by the
/// validators the <c>[OptionsValidator]</c> source generator writes from those attributes (no reflection, so trimming and
/// Native AOT keep it); this class adds only what attributes cannot say: rules across options, the failover region names,
/// the <see cref="SecretsCacheOptions.TtlByReference"/> keys, which are references, and that an enum holds a named value.
/// Every message starts with the option's path (<c>Retry.MaxDelay</c>) and never holds its value.
/// </summary>
internal static class OptionsValidation
{
    // Attribute arguments: limits as invariant TimeSpan text.
    public const string Zero = "00:00:00";
    public const string MaxTimeSpan = "10675199.02:48:05.4775807";

    /// <summary>The longest delay a timer (and so a CancellationTokenSource timeout) accepts: uint.MaxValue - 1 ms, about 49.7 days.</summary>
    public const string MaxTimer = "49.17:02:47.294";

    public const string HalfASecond = "00:00:00.5";
    public const string OneDay = "1.00:00:00";

    /// <summary>Why the options types may carry <c>[Range(typeof(TimeSpan), …)]</c> in a trimmed or Native AOT app.</summary>
    public const string TimeSpanRangeIsNeverConstructed =
        "RangeAttribute(Type, string, string) converts its limits with a TypeConverter, but it is never constructed: the options validation source generator emits a typed copy of each attribute, and nothing here reads the attributes by reflection.";

    private static readonly SecretsCacheOptionsValidator Generated = new();
    private static readonly RotationOptionsValidator GeneratedRotation = new();

    /// <summary>What is wrong with <paramref name="options"/>: the generated checks, then the rules attributes cannot express.</summary>
    public static IReadOnlyList<string> Validate(SecretsCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Failures(Generated.Validate(name: null, options), nameof(SecretsCacheOptions));
        TtlKeys(options.TtlByReference, errors);
        if (options.MaxFailureBackoff < options.FailureBackoff)
        {
            errors.Add($"{nameof(SecretsCacheOptions.MaxFailureBackoff)} must be at least {nameof(SecretsCacheOptions.FailureBackoff)}.");
        }

        if (!Enum.IsDefined(options.RateLimits.Behavior))
        {
            // An enum accepts any number (a cast in code, a number in configuration); only its named values are behaviours.
            errors.Add($"RateLimits.{nameof(RateLimitOptions.Behavior)} must be {string.Join(" or ", Enum.GetNames<RateLimitBehavior>())}.");
        }

        errors.AddRange(Resilience.RegionFailover.Validate(options.Aws.Region, options.Aws.FailoverRegions));
        RetryRules(options.Retry, errors);
        return errors;
    }

    /// <inheritdoc cref="Validate(SecretsCacheOptions)"/>
    public static IReadOnlyList<string> Validate(RotationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = Failures(GeneratedRotation.Validate(name: null, options), nameof(RotationOptions));
        if (options.MaxRecheckDelay < options.RecheckDelay)
        {
            errors.Add($"{nameof(RotationOptions.MaxRecheckDelay)} must be at least {nameof(RotationOptions.RecheckDelay)}.");
        }

        return errors;
    }

    /// <summary>Throws the configuration error that lists every problem, if there is one.</summary>
    /// <exception cref="SecretsConfigurationException">The options are invalid.</exception>
    public static void ThrowIfInvalid(SecretsCacheOptions options)
    {
        var errors = Validate(options);
        if (errors.Count > 0)
        {
            throw new SecretsConfigurationException("Invalid SecretsCache options: " + string.Join(" ", errors));
        }
    }

    /// <summary>
    /// The generated validators' messages, reworded to start with the option's path as a user sets it. They read
    /// "<c>Member: The field SecretsCacheOptions.Retry.BaseDelay must be between 00:00:00 exclusive and 10675199.02:48:05.4775807.</c>"
    /// (the generator's copy of <c>RangeAttribute</c> ignores <c>ErrorMessage</c>); this one reads
    /// "<c>Retry.BaseDelay must be positive.</c>". Neither ever holds the value.
    /// </summary>
    private static List<string> Failures(ValidateOptionsResult result, string typeName)
    {
        var errors = new List<string>();
        if (!result.Failed)
        {
            return errors;
        }

        foreach (var failure in result.Failures)
        {
            errors.Add(Reword(failure, typeName + "."));
        }

        return errors;
    }

    private static string Reword(string failure, string typePrefix)
    {
        // "Member: " is added by ValidateOptionsResultBuilder; a member name has neither spaces nor ':'.
        var colon = failure.IndexOf(": ", StringComparison.Ordinal);
        var message = colon > 0 && !failure.AsSpan(0, colon).Contains(' ') ? failure[(colon + 2)..] : failure;
        const string Field = "The field ", Between = " must be between ", Required = " field is required.";
        string path, rule;
        if (message.StartsWith(Field, StringComparison.Ordinal) && message.IndexOf(Between, StringComparison.Ordinal) is var at and > 0)
        {
            path = message[Field.Length..at];
            rule = RangeRule(message[(at + Between.Length)..].TrimEnd('.'));
        }
        else if (message.StartsWith("The ", StringComparison.Ordinal) && message.EndsWith(Required, StringComparison.Ordinal))
        {
            path = message[4..^Required.Length];
            rule = "must be set.";
        }
        else
        {
            return message;
        }

        return (path.StartsWith(typePrefix, StringComparison.Ordinal) ? path[typePrefix.Length..] : path) + " " + rule;
    }

    /// <summary>"<c>0 exclusive and 10675199.02:48:05.4775807</c>" → "<c>must be positive.</c>", and so on; the limits are the attribute's, never the value.</summary>
    private static string RangeRule(string limits)
    {
        var and = limits.IndexOf(" and ", StringComparison.Ordinal);
        if (and < 0)
        {
            return "must be between " + limits + ".";
        }

        const string Exclusive = " exclusive";
        var (min, max) = (limits[..and], limits[(and + 5)..]);
        var (aboveMin, belowMax) = (min.EndsWith(Exclusive, StringComparison.Ordinal), max.EndsWith(Exclusive, StringComparison.Ordinal));
        (min, max) = (aboveMin ? min[..^Exclusive.Length] : min, belowMax ? max[..^Exclusive.Length] : max);
        var culture = System.Globalization.CultureInfo.CurrentCulture; // the generator formats the limits in the current culture
        var unbounded = !belowMax && (max == TimeSpan.MaxValue.ToString("c", culture) || max == int.MaxValue.ToString(culture) || max == double.MaxValue.ToString(culture));
        var zero = min is "0" or Zero;
        return (unbounded, zero, aboveMin, belowMax) switch
        {
            (true, true, true, _) => "must be positive.",
            (true, true, false, _) => "must not be negative.",
            (true, false, _, _) => $"must be {(aboveMin ? "above" : "at least")} {min}.",
            (false, _, false, false) => $"must be between {min} and {max}.",
            _ => $"must be {(aboveMin ? "above" : "at least")} {min} and {(belowMax ? "below" : "at most")} {max}.",
        };
    }

    /// <summary>The rules across retry options, for the shared values and for each service's values in force.</summary>
    private static void RetryRules(RetryOptions retry, List<string> errors)
    {
        if (!IsBreakDuration(retry.BreakDuration))
        {
            errors.Add("Retry.BreakDuration must be zero (no circuit breaker) or between 0.5 seconds and 1 day.");
        }

        if (retry.MaxDelay < retry.BaseDelay)
        {
            errors.Add("Retry.MaxDelay must be at least Retry.BaseDelay.");
        }

        foreach (var (name, service) in (ReadOnlySpan<(string, ServiceRetryOptions)>)[(nameof(RetryOptions.SecretsManager), retry.SecretsManager), (nameof(RetryOptions.ParameterStore), retry.ParameterStore)])
        {
            if (service.BreakDuration is { } breakDuration && !IsBreakDuration(breakDuration))
            {
                errors.Add($"Retry.{name}.BreakDuration must be zero (no circuit breaker) or between 0.5 seconds and 1 day.");
            }

            // Only an override can break the rule for a service: the shared values are checked above.
            if ((service.MaxDelay is not null || service.BaseDelay is not null) && (service.MaxDelay ?? retry.MaxDelay) < (service.BaseDelay ?? retry.BaseDelay))
            {
                errors.Add($"Retry.{name}.MaxDelay must be at least Retry.{name}.BaseDelay (each is Retry's own where it is unset).");
            }
        }
    }

    private static bool IsBreakDuration(TimeSpan value) =>
        value == TimeSpan.Zero || (value >= TimeSpan.FromMilliseconds(500) && value <= TimeSpan.FromDays(1));

    /// <summary>A key must be a reference, and two spellings of one reference must not give different TTLs.</summary>
    private static void TtlKeys(IDictionary<string, TimeSpan> ttlByReference, List<string> errors)
    {
        const string Option = nameof(SecretsCacheOptions.TtlByReference);
        var ttlByKey = new Dictionary<string, (string Reference, TimeSpan Ttl)>(StringComparer.Ordinal);
        foreach (var (reference, ttl) in ttlByReference)
        {
            if (!SecretReference.TryParse(reference, out var parsed))
            {
                errors.Add($"{Option} names '{reference}', which is not a valid reference.");
            }
            else if (!ttlByKey.TryAdd(parsed.CanonicalText, (reference, ttl)) && ttlByKey[parsed.CanonicalText].Ttl != ttl)
            {
                // Two spellings of one reference with different TTLs: whichever came last would silently win.
                errors.Add($"{Option} gives '{ttlByKey[parsed.CanonicalText].Reference}' and '{reference}', the same reference, different TTLs.");
            }

            if (ttl <= TimeSpan.Zero)
            {
                errors.Add($"{Option}['{reference}'] must be positive.");
            }
        }
    }
}

/// <summary>Written by the options validation source generator from the attributes on <see cref="SecretsCacheOptions"/> and the options it holds.</summary>
[OptionsValidator]
internal sealed partial class SecretsCacheOptionsValidator : IValidateOptions<SecretsCacheOptions>;

/// <summary>Written by the options validation source generator from the attributes on <see cref="RotationOptions"/>.</summary>
[OptionsValidator]
internal sealed partial class RotationOptionsValidator : IValidateOptions<RotationOptions>;

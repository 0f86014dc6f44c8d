using System.ComponentModel.DataAnnotations;
using static SecretsCache.Composition.OptionsValidation;

namespace SecretsCache;

/// <summary>
/// How <see cref="SecretProviderRotationExtensions.ExecuteAsync{T}"/> recovers when an operation is refused because its
/// credential was rotated. The one thing to get right is <see cref="IsAuthenticationFailure"/>: only exceptions it accepts are
/// retried; every other exception passes through untouched.
/// </summary>
[System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2026:RequiresUnreferencedCode", Justification = Composition.OptionsValidation.TimeSpanRangeIsNeverConstructed)]
public sealed class RotationOptions
{
    /// <summary>
    /// Decides whether an exception thrown by the operation means "this credential was refused". Default
    /// <see cref="AuthenticationFailurePredicates.Any"/> (PostgreSQL, MySQL/MariaDB, SQL Server, Oracle and HTTP 401, matched by
    /// error code). Combine your own with <see cref="AuthenticationFailurePredicates.AnyOf"/>.
    /// </summary>
    [Required]
    public Func<Exception, bool> IsAuthenticationFailure { get; set; } = AuthenticationFailurePredicates.Any;

    /// <summary>
    /// How long, from the first authentication failure, to keep looking for a working value before throwing
    /// <see cref="SecretRotationException"/>. Default 30 seconds.
    /// </summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, ParseLimitsInInvariantCulture = true)]
    public TimeSpan TimeBudget { get; set; } = Defaults.RotationTimeBudget;

    /// <summary>The first pause between re-checks of the secret; it doubles per re-check, with jitter. Default 500 ms.</summary>
    [Range(typeof(TimeSpan), Zero, MaxTimeSpan, MinimumIsExclusive = true, ParseLimitsInInvariantCulture = true)]
    public TimeSpan RecheckDelay { get; set; } = Defaults.RotationRecheckDelay;

    /// <summary>The cap on the pause between re-checks. Default 5 seconds.</summary>
    public TimeSpan MaxRecheckDelay { get; set; } = Defaults.RotationMaxRecheckDelay;

    /// <summary>
    /// When the current version is refused and unchanged, try the <c>AWSPENDING</c> version of a Secrets Manager reference (a
    /// rotation may have changed the database before moving <c>AWSCURRENT</c>), and keep using it until <c>AWSCURRENT</c> moves.
    /// Default on.
    /// </summary>
    public bool TryPendingVersion { get; set; } = true;

    /// <summary>Jitter source in [0, 1); tests pin it.</summary>
    internal Func<double>? Random { get; set; }

    /// <summary>Lists what is wrong with these settings, each by the option's name and never by its value; empty when they are valid.</summary>
    public IReadOnlyList<string> Validate() => Composition.OptionsValidation.Validate(this);
}

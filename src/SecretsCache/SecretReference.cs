using System.Diagnostics.CodeAnalysis;
using SecretsCache.References;

namespace SecretsCache;

/// <summary>
/// A parsed, validated reference to one secret or parameter version. The text forms are a public contract:
/// <c>app/db</c> or <c>sm:app/db</c> (optionally <c>?stage=AWSPREVIOUS</c> or <c>?versionId=...</c>), a Secrets Manager ARN,
/// <c>ssm:/app/prod/key</c> (optionally <c>:3</c> or <c>:label</c>), an SSM parameter ARN, and
/// <c>/aws/reference/secretsmanager/app/db</c> (optionally <c>:AWSPREVIOUS</c> or <c>:versionId</c>).
/// </summary>
public sealed class SecretReference : IEquatable<SecretReference>
{
    internal SecretReference(
        SecretStore store,
        string name,
        string? versionStage = null,
        string? versionId = null,
        long? parameterVersion = null,
        string? parameterLabel = null,
        bool isPassthrough = false,
        AwsArn? arn = null)
    {
        Store = store;
        Name = name;
        VersionStage = versionStage;
        VersionId = versionId;
        ParameterVersion = parameterVersion;
        ParameterLabel = parameterLabel;
        IsPassthrough = isPassthrough;
        Region = arn?.Region;
        AccountId = arn?.AccountId;
        Partition = arn?.Partition;
        CanonicalText = ReferenceFormatter.Format(this);
    }

    /// <summary>The service this reference is read from.</summary>
    public SecretStore Store { get; }

    /// <summary>The secret id or parameter name exactly as sent to AWS: a name, a full ARN, or the passthrough path.</summary>
    public string Name { get; }

    /// <summary>The Secrets Manager version stage to read, or <see langword="null"/> for AWSCURRENT.</summary>
    public string? VersionStage { get; }

    /// <summary>The Secrets Manager version id to read, if one was chosen.</summary>
    public string? VersionId { get; }

    /// <summary>The Parameter Store version number to read (<c>name:3</c>), if one was chosen.</summary>
    public long? ParameterVersion { get; }

    /// <summary>The Parameter Store label to read (<c>name:label</c>), if one was chosen.</summary>
    public string? ParameterLabel { get; }

    /// <summary>True for <c>/aws/reference/secretsmanager/...</c>: a Secrets Manager secret read through Parameter Store.</summary>
    public bool IsPassthrough { get; }

    /// <summary>The region named by the ARN, which wins over the configured region; <see langword="null"/> for plain names.</summary>
    public string? Region { get; }

    /// <summary>The account named by the ARN; <see langword="null"/> for plain names.</summary>
    public string? AccountId { get; }

    /// <summary>The partition named by the ARN (<c>aws</c>, <c>aws-cn</c>, <c>aws-us-gov</c>...); <see langword="null"/> for plain names.</summary>
    public string? Partition { get; }

    /// <summary>
    /// The Parameter Store selector after the name (<c>3</c>, <c>label</c>, or a passthrough's stage or version id), or
    /// <see langword="null"/>; both the canonical text and the Name sent to AWS use it.
    /// </summary>
    internal string? ParameterSelector =>
        ParameterVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? ParameterLabel ?? VersionStage ?? VersionId;

    /// <summary>The canonical text of this reference; two references that read the same version have the same text.</summary>
    internal string CanonicalText { get; }

    /// <summary>The low-cardinality kind used in telemetry: <c>secret</c>, <c>parameter</c> or <c>passthrough</c>.</summary>
    internal string Kind => IsPassthrough ? "passthrough" : Store == SecretStore.SecretsManager ? "secret" : "parameter";

    /// <summary>The low-cardinality source used in telemetry: <c>secretsmanager</c> or <c>ssm</c>.</summary>
    internal string SourceName => Store == SecretStore.SecretsManager ? "secretsmanager" : "ssm";

    /// <summary>Parses a reference, throwing an <see cref="ArgumentException"/> that quotes it and says what is wrong.</summary>
    /// <exception cref="ArgumentException">The text is empty, too long, or not a valid reference.</exception>
    public static SecretReference Parse(string reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        var result = ReferenceParser.Parse(reference, out var error);
        return result ?? throw new ArgumentException($"Invalid secret reference {ReferenceQuote.Quote(reference)}: {error}", nameof(reference));
    }

    /// <summary>Parses a reference without throwing.</summary>
    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out SecretReference? reference)
    {
        reference = text is null ? null : ReferenceParser.Parse(text, out _);
        return reference is not null;
    }

    /// <inheritdoc />
    public bool Equals(SecretReference? other) => other is not null && string.Equals(CanonicalText, other.CanonicalText, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as SecretReference);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(CanonicalText);

    /// <summary>The canonical text form, for example <c>sm:app/db?stage=AWSPREVIOUS</c>. It never contains a value.</summary>
    public override string ToString() => CanonicalText;
}

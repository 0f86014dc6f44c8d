using System.ComponentModel;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace SecretsCache;

/// <summary>
/// One version of a secret or parameter, as fetched. Immutable. The value is reachable only through
/// <see cref="GetString"/>, <see cref="GetBytes"/> and <see cref="GetJson{T}"/>; <see cref="ToString"/> never shows it.
/// </summary>
/// <remarks>
/// Marked <see cref="ImmutableObjectAttribute"/> (and sealed), so a <c>HybridCache</c> holding <see cref="Secret"/> values
/// keeps and returns the instance instead of a serialized copy per read.
/// </remarks>
[ImmutableObject(true)]
public sealed class Secret
{
    private readonly string? _text;
    private readonly byte[]? _binary;
    private byte[]? _textBytes;
    private readonly string? _region;

    /// <summary>Creates a string secret, for example in a test double of <see cref="ISecretProvider"/>.</summary>
    public Secret(string name, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        Name = name;
        _text = value;
    }

    /// <summary>Creates a binary secret. The bytes are copied.</summary>
    public Secret(string name, ReadOnlySpan<byte> value)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _binary = value.ToArray();
    }

    private Secret(string name, string? text, byte[]? binary)
    {
        Name = name;
        _text = text;
        _binary = binary;
    }

    /// <summary>The secret's or parameter's name as AWS reports it.</summary>
    public string Name { get; }

    /// <summary>The full ARN, where the service reports it.</summary>
    public string? Arn { get; init; }

    /// <summary>
    /// The AWS region that served this value: the primary region, or the replica region a read failed over to
    /// (<see cref="AwsOptions.FailoverRegions"/>). When not set, the region of <see cref="Arn"/>; <see langword="null"/>
    /// for a value made in code without either.
    /// </summary>
    public string? Region
    {
        get => _region ?? RegionOf(Arn);
        init => _region = value;
    }

    /// <summary>The Secrets Manager version id, where there is one.</summary>
    public string? VersionId { get; init; }

    /// <summary>The Secrets Manager staging labels attached to this version (for example AWSCURRENT).</summary>
    public IReadOnlyList<string> VersionStages { get; init; } = [];

    /// <summary>The Parameter Store version number, where there is one.</summary>
    public long? ParameterVersion { get; init; }

    /// <summary>When this value was fetched from AWS (by the provider's <see cref="TimeProvider"/>).</summary>
    public DateTimeOffset FetchedAt { get; init; }

    /// <summary>True when the value is binary (Secrets Manager <c>SecretBinary</c>).</summary>
    public bool IsBinary => _binary is not null;

    /// <summary>
    /// A short, value-free token that changes whenever the value changes: the version id, else the parameter version.
    /// </summary>
    public string? Version => VersionId ?? ParameterVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The value as a string.</summary>
    /// <exception cref="SecretFormatException">The secret is binary.</exception>
    public string GetString() =>
        _text ?? throw new SecretFormatException(
            $"The secret '{Name}' is binary (SecretBinary); read it with GetBytes() instead of as a string.", Name);

    /// <summary>The value as bytes: the binary value, or the UTF-8 encoding of a string value.</summary>
    public ReadOnlyMemory<byte> GetBytes() => _binary ?? (_textBytes ??= Encoding.UTF8.GetBytes(_text!));

    /// <summary>Deserializes a JSON value through source-generated metadata, so it is trimming- and AOT-safe.</summary>
    /// <exception cref="SecretFormatException">The value is not valid JSON for <typeparamref name="T"/> (the message gives the line and
    /// byte, and the JSON path only for values read with <see cref="SecretsCacheOptions.IncludeNamesInTelemetry"/>), or is JSON null.</exception>
    public T GetJson<T>(JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        try
        {
            var result = _binary is not null
                ? JsonSerializer.Deserialize(_binary, typeInfo)
                : JsonSerializer.Deserialize(_text!, typeInfo);
            return result ?? throw new SecretFormatException($"The secret '{Name}' holds JSON null, not a {typeof(T).Name}.", Name);
        }
        catch (JsonException ex)
        {
            // JsonException's own message can quote part of the value, so it is neither repeated nor kept as the inner exception.
            // Its path names the value's own keys (data, for a dictionary-shaped secret): shown only where names are allowed.
            var path = ShowsJsonPath ? $"path '{ex.Path ?? "$"}', " : string.Empty;
            throw new SecretFormatException(
                $"The secret '{Name}' is not valid JSON for {typeof(T).Name} ({path}line {ex.LineNumber ?? 0}, byte {ex.BytePositionInLine ?? 0}).",
                Name);
        }
    }

    /// <summary>Describes the secret without its value.</summary>
    public override string ToString() =>
        $"Secret {{ Name = {Name}, Version = {Version ?? "(none)"}, Stages = [{string.Join(", ", VersionStages)}], FetchedAt = {FetchedAt:O}, Value = *** }}";

    /// <summary>Whether a JSON error may give the path (<see cref="SecretsCacheOptions.IncludeNamesInTelemetry"/>); else line and byte only.</summary>
    internal bool ShowsJsonPath { get; init; }

    /// <summary>Wraps a value read off the wire; the byte array is owned by the new secret, not copied.</summary>
    internal static Secret FromWire(
        string name, string? text, byte[]? binary, DateTimeOffset fetchedAt, string? arn = null, string? versionId = null, IReadOnlyList<string>? stages = null, long? parameterVersion = null, bool showsJsonPath = false, string? region = null) =>
        new(name, text, binary)
        {
            Region = region,
            ShowsJsonPath = showsJsonPath,
            FetchedAt = fetchedAt,
            Arn = arn,
            VersionId = versionId,
            VersionStages = stages ?? [],
            ParameterVersion = parameterVersion,
        };

    /// <summary>The region field of an ARN (<c>arn:partition:service:region:...</c>), or null.</summary>
    private static string? RegionOf(string? arn)
    {
        if (arn is null || !arn.StartsWith("arn:", StringComparison.Ordinal))
        {
            return null;
        }

        var parts = arn.Split(':', 5);
        return parts.Length == 5 && parts[3].Length > 0 ? parts[3] : null;
    }

    internal bool HasSameValue(Secret other) =>
        _binary is not null
            ? other._binary is not null && _binary.AsSpan().SequenceEqual(other._binary)
            : string.Equals(_text, other._text, StringComparison.Ordinal);
}

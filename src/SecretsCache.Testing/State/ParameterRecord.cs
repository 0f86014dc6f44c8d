namespace SecretsCache.Testing.State;

/// <summary>One parameter and its versions. Mutated only under the <see cref="ParameterStore"/> lock.</summary>
internal sealed class ParameterRecord(string name)
{
    public string Name { get; } = name;

    /// <summary>Oldest first; version numbers keep increasing after old ones are pruned.</summary>
    public List<ParameterVersion> Versions { get; } = [];

    public List<KeyValuePair<string, string>> Tags { get; } = [];

    public ParameterVersion Latest => Versions[^1];
}

/// <summary>One version of a parameter.</summary>
internal sealed class ParameterVersion(long version, string type, string value, string? ciphertext, DateTimeOffset lastModifiedDate)
{
    public long Version { get; } = version;

    public string Type { get; } = type;

    public string Value { get; } = value;

    /// <summary>For SecureString: the opaque text returned when the value is read without decryption.</summary>
    public string? Ciphertext { get; } = ciphertext;

    public DateTimeOffset LastModifiedDate { get; } = lastModifiedDate;

    public string DataType { get; init; } = "text";

    public string? KeyId { get; init; }

    public string Tier { get; init; } = "Standard";

    public List<string> Labels { get; } = [];
}

/// <summary>A copy of one parameter version, safe to read outside the lock.</summary>
internal sealed record ParameterValue(
    string Name,
    string Arn,
    string Type,
    string Value,
    string? Ciphertext,
    long Version,
    DateTimeOffset LastModifiedDate,
    string DataType,
    string? KeyId,
    IReadOnlyList<string> Labels,
    IReadOnlyList<KeyValuePair<string, string>> Tags);

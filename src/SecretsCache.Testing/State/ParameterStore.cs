using System.Globalization;
using System.Security.Cryptography;
using SecretsCache.Testing.Protocol;

namespace SecretsCache.Testing.State;

/// <summary>What PutParameter carries, besides the name and value.</summary>
internal sealed record ParameterWrite(
    string? Type = null,
    bool Overwrite = false,
    string? KeyId = null,
    string? Tier = null,
    string? DataType = null,
    IReadOnlyList<KeyValuePair<string, string>>? Tags = null);

/// <summary>
/// The Parameter Store state with AWS's rules: names and hierarchies, numbered versions (at most 100 kept), labels
/// unique within a parameter (at most 10 per version), selectors <c>name:3</c> and <c>name:label</c>.
/// </summary>
internal sealed partial class ParameterStore(AwsArns arns, Func<DateTimeOffset> clock)
{
    private const int MaxVersions = 100;
    private const int MaxLabelsPerVersion = 10;
    private const int MaxHierarchyLevels = 15;

    private readonly object _lock = new();
    private readonly Dictionary<string, ParameterRecord> _byName = new(StringComparer.Ordinal);

    public (long Version, string Tier) Put(string nameOrArn, string value, ParameterWrite write)
    {
        var name = ToName(nameOrArn);
        CheckName(name);
        if (value.Length == 0)
        {
            throw Validation("1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
        }

        var tier = ChooseTier(value, write.Tier);
        var dataType = write.DataType ?? "text";
        if (dataType is not ("text" or "aws:ec2:image" or "aws:ssm:integration"))
        {
            throw Validation("The following data type is not supported: use text, aws:ec2:image or aws:ssm:integration (data type names are all lowercase).");
        }

        if (write.Overwrite && write.Tags is { Count: > 0 })
        {
            throw Validation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.");
        }

        lock (_lock)
        {
            var exists = _byName.TryGetValue(name, out var record);
            if (exists && !write.Overwrite)
            {
                throw new AwsErrorException("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.");
            }

            // Type may be left out only when overwriting: the new version keeps the latest one's type.
            if (!exists && write.Type is null)
            {
                throw Validation("A parameter type is required when you create a parameter.");
            }

            record ??= new ParameterRecord(name);
            if (record.Versions.Count >= MaxVersions)
            {
                var oldest = record.Versions[0];
                if (oldest.Labels.Count > 0)
                {
                    throw new AwsErrorException("ParameterMaxVersionLimitExceeded", string.Create(CultureInfo.InvariantCulture, $"You attempted to create a new version of {name} by calling the PutParameter API with the overwrite flag. Version {oldest.Version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again."));
                }

                record.Versions.RemoveAt(0);
            }

            var type = write.Type ?? record.Latest.Type;
            var number = exists ? record.Latest.Version + 1 : 1;
            var ciphertext = type == "SecureString" ? NewCiphertext(value) : null;
            record.Versions.Add(new ParameterVersion(number, type, value, ciphertext, clock())
            {
                DataType = dataType,
                KeyId = type == "SecureString" ? write.KeyId ?? "alias/aws/ssm" : null,
                Tier = tier,
            });
            if (write.Tags is not null)
            {
                record.Tags.AddRange(write.Tags);
            }

            _byName[name] = record;
            return (number, tier);
        }
    }

    public void Delete(string nameOrArn)
    {
        var name = ToName(nameOrArn);
        lock (_lock)
        {
            if (!_byName.Remove(name))
            {
                throw new AwsErrorException("ParameterNotFound", $"Parameter {name} not found.");
            }
        }
    }

    /// <summary>Attaches labels to a version (the latest when none is given), moving them off other versions.
    /// Labels that break AWS's naming rules are returned instead of attached.</summary>
    public (IReadOnlyList<string> InvalidLabels, long Version) Label(string nameOrArn, long? version, IReadOnlyList<string> labels)
    {
        var name = ToName(nameOrArn);
        lock (_lock)
        {
            var record = _byName.GetValueOrDefault(name) ?? throw ParameterNotFound(null);
            var target = version is null ? record.Latest : record.Versions.Find(v => v.Version == version)
                ?? throw VersionNotFound(string.Create(CultureInfo.InvariantCulture, $"Systems Manager could not find version {version} of {name}. Verify the version and try again."));
            var invalid = labels.Where(l => !IsValidLabel(l)).ToList();
            var valid = labels.Where(IsValidLabel).Distinct(StringComparer.Ordinal).ToList();
            if (target.Labels.Union(valid, StringComparer.Ordinal).Count() > MaxLabelsPerVersion)
            {
                throw new AwsErrorException("ParameterVersionLabelLimitExceeded", "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.");
            }

            foreach (var label in valid)
            {
                foreach (var other in record.Versions)
                {
                    other.Labels.Remove(label);
                }

                target.Labels.Add(label);
            }

            return (invalid, target.Version);
        }
    }

    /// <summary>The latest version, or the one a selector (<c>3</c> or <c>label</c>) names.</summary>
    public ParameterValue Get(string name, string? selector)
    {
        lock (_lock)
        {
            var record = _byName.GetValueOrDefault(name) ?? throw ParameterNotFound(null);
            ParameterVersion? version;
            if (selector is null)
            {
                version = record.Latest;
            }
            else if (long.TryParse(selector, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            {
                version = record.Versions.Find(v => v.Version == number)
                    ?? throw VersionNotFound(string.Create(CultureInfo.InvariantCulture, $"Systems Manager could not find version {number} of {name}. Verify the version and try again."));
            }
            else
            {
                version = record.Versions.Find(v => v.Labels.Contains(selector, StringComparer.Ordinal))
                    ?? throw VersionNotFound($"Systems Manager could not find label {selector} of {name}. Verify the label and try again.");
            }

            return Snapshot(record, version);
        }
    }

    /// <summary>The latest version of every parameter under <paramref name="path"/>, by name; only direct children unless recursive.</summary>
    public IReadOnlyList<ParameterValue> ListByPath(string path, bool recursive, Func<ParameterRecord, ParameterVersion?>? pick = null)
    {
        var prefix = path.EndsWith('/') ? path : path + "/";
        lock (_lock)
        {
            return _byName.Values
                .Where(r => r.Name.StartsWith(prefix, StringComparison.Ordinal) && r.Name.Length > prefix.Length)
                .Where(r => recursive || r.Name.IndexOf('/', prefix.Length) < 0)
                .OrderBy(r => r.Name, StringComparer.Ordinal)
                .Select(r => (pick ?? (static r => r.Latest))(r) is { } version ? Snapshot(r, version) : null)
                .OfType<ParameterValue>()
                .ToList();
        }
    }

    private ParameterValue Snapshot(ParameterRecord record, ParameterVersion version) => new(
        record.Name,
        arns.Parameter(record.Name),
        version.Type,
        version.Value,
        version.Ciphertext,
        version.Version,
        version.LastModifiedDate,
        version.DataType,
        version.KeyId,
        [.. version.Labels],
        [.. record.Tags]);

    /// <summary>A stand-in for a KMS ciphertext blob: opaque, base64, about as long as the real thing.</summary>
    private static string NewCiphertext(string value)
    {
        var blob = new byte[5 + 150 + value.Length];
        RandomNumberGenerator.Fill(blob);
        ReadOnlySpan<byte> header = [0x01, 0x02, 0x02, 0x00, 0x78];
        header.CopyTo(blob);
        return Convert.ToBase64String(blob);
    }
}

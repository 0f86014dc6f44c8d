using SecretsCache.Testing.Protocol;

namespace SecretsCache.Testing.State;

/// <summary>Parameter names, selectors, tiers and labels as AWS spells and limits them.</summary>
internal sealed partial class ParameterStore
{
    private const int StandardValueLimit = 4096;
    private const int AdvancedValueLimit = 8192;

    /// <summary>Splits <c>/app/x:3</c> or <c>arn:aws:ssm:...:parameter/app/x:label</c> into the name and the selector.</summary>
    public (string Name, string? Selector) SplitSelector(string nameOrArn)
    {
        var isArn = nameOrArn.StartsWith(arns.ParameterPrefix + "/", StringComparison.Ordinal);
        var start = isArn ? arns.ParameterPrefix.Length : 0;
        var colon = nameOrArn.LastIndexOf(':');
        if (colon < start)
        {
            return (ToName(nameOrArn), null);
        }

        return (ToName(nameOrArn[..colon]), nameOrArn[(colon + 1)..]);
    }

    /// <summary>The parameter name an ARN refers to; other text is returned unchanged.</summary>
    public string ToName(string nameOrArn)
    {
        if (!nameOrArn.StartsWith(arns.ParameterPrefix + "/", StringComparison.Ordinal))
        {
            return nameOrArn;
        }

        var path = nameOrArn[arns.ParameterPrefix.Length..];

        // "parameter/x" names either "/x" or the non-hierarchical "x"; prefer the one that exists.
        if (path.LastIndexOf('/') == 0)
        {
            lock (_lock)
            {
                if (!_byName.ContainsKey(path) && _byName.ContainsKey(path[1..]))
                {
                    return path[1..];
                }
            }
        }

        return path;
    }

    private static void CheckName(string name)
    {
        var trimmed = name.TrimStart('/');
        if (trimmed.StartsWith("aws", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("ssm", StringComparison.OrdinalIgnoreCase)
            || name.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' or '/')))
        {
            throw Validation("Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_");
        }

        if (name.Contains('/', StringComparison.Ordinal) && (!name.StartsWith('/') || name.EndsWith('/') || name.Contains("//", StringComparison.Ordinal)))
        {
            throw Validation("Parameter name must be a fully qualified name.");
        }

        if (name.Count(c => c == '/') > MaxHierarchyLevels)
        {
            throw new AwsErrorException("HierarchyLevelLimitExceededException", "Parameter name cannot have more than 15 levels of hierarchy.");
        }
    }

    private static string ChooseTier(string value, string? requested)
    {
        var tier = requested switch
        {
            "Advanced" => "Advanced",
            "Intelligent-Tiering" => value.Length > StandardValueLimit ? "Advanced" : "Standard",
            _ => "Standard",
        };
        var limit = tier == "Advanced" ? AdvancedValueLimit : StandardValueLimit;
        if (value.Length > limit)
        {
            throw Validation(tier == "Standard"
                ? "Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier."
                : "Advanced tier parameters support a maximum parameter value of 8192 characters.");
        }

        return tier;
    }

    /// <summary>AWS's label rules: up to 100 letters, digits, '.', '-' or '_'; not starting with a digit, "aws" or "ssm".</summary>
    private static bool IsValidLabel(string label) =>
        label.Length is > 0 and <= 100
        && !char.IsAsciiDigit(label[0])
        && !label.StartsWith("aws", StringComparison.OrdinalIgnoreCase)
        && !label.StartsWith("ssm", StringComparison.OrdinalIgnoreCase)
        && label.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_');

    /// <summary>GetParameter answers ParameterNotFound without a message, as AWS does.</summary>
    internal static AwsErrorException ParameterNotFound(string? message) => new("ParameterNotFound", message);

    private static AwsErrorException VersionNotFound(string message) => new("ParameterVersionNotFound", message);

    private static AwsErrorException Validation(string message) => new("ValidationException", message);
}

using System.Diagnostics;

namespace SecretsCache.Diagnostics;

/// <summary>Tag names, and the one place that decides which tags a reference gets. Values are never tags.</summary>
internal static class TelemetryTags
{
    public const string Source = "secretscache.source";
    public const string Kind = "secretscache.kind";
    public const string Name = "secretscache.name";
    public const string ErrorType = "error.type";
    public const string BatchSize = "secretscache.batch.size";

    /// <summary>The region that answered a fetch (OpenTelemetry's <c>cloud.region</c>): the primary, or a failover region.</summary>
    public const string Region = "cloud.region";

    /// <summary>The tags of a Parameter Store path listing (the path only with <paramref name="includeName"/>).</summary>
    public static TagList ForPath(string path, bool includeName)
    {
        var tags = new TagList
        {
            { Source, "ssm" },
            { Kind, "path" },
        };
        if (includeName)
        {
            tags.Add(Name, path);
        }

        return tags;
    }

    public static TagList For(SecretReference reference, bool includeName)
    {
        var tags = new TagList
        {
            { Source, reference.SourceName },
            { Kind, reference.Kind },
        };
        if (includeName)
        {
            tags.Add(Name, reference.Name);
        }

        return tags;
    }
}

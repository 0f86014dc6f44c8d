using System.Text;

namespace SecretsCache.References;

/// <summary>Writes the canonical text of a reference, which doubles as its cache key.</summary>
internal static class ReferenceFormatter
{
    public static string Format(SecretReference reference)
    {
        var text = new StringBuilder(reference.Name.Length + 24);
        if (reference.Store == SecretStore.SecretsManager)
        {
            text.Append(ReferenceParser.SecretsManagerScheme).Append(reference.Name);
            if (reference.VersionStage is not null)
            {
                text.Append("?stage=").Append(Uri.EscapeDataString(reference.VersionStage));
            }
            else if (reference.VersionId is not null)
            {
                text.Append("?versionId=").Append(Uri.EscapeDataString(reference.VersionId));
            }

            return text.ToString();
        }

        text.Append(ReferenceParser.ParameterStoreScheme).Append(reference.Name);
        if (reference.ParameterSelector is { } selector)
        {
            text.Append(':').Append(selector);
        }

        return text.ToString();
    }
}

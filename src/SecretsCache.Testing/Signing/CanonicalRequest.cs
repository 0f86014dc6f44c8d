using System.Globalization;
using System.Text;

namespace SecretsCache.Testing.Signing;

/// <summary>
/// Builds the SigV4 canonical request from what arrived on the wire (AWS's "Create a canonical request"), for
/// services other than S3: the path is normalized (dot segments and repeated slashes removed) and every segment is
/// percent-encoded once more, query parameters are decoded, re-encoded and sorted, and header values are trimmed
/// with inner whitespace collapsed and repeated headers joined by commas.
/// </summary>
internal static class CanonicalRequest
{
    public static string Build(SigningRequest request, IReadOnlyList<string> signedHeaders, string payloadHash)
    {
        var questionMark = request.RawTarget.IndexOf('?', StringComparison.Ordinal);
        var path = questionMark < 0 ? request.RawTarget : request.RawTarget[..questionMark];
        var query = questionMark < 0 ? string.Empty : request.RawTarget[(questionMark + 1)..];

        var builder = new StringBuilder(256);
        builder.Append(request.Method.ToUpperInvariant()).Append('\n');
        builder.Append(CanonicalUri(path)).Append('\n');
        builder.Append(CanonicalQuery(query)).Append('\n');
        foreach (var name in signedHeaders)
        {
            builder.Append(name).Append(':').Append(CanonicalHeaderValue(request.Values(name))).Append('\n');
        }

        builder.Append('\n');
        builder.Append(string.Join(';', signedHeaders)).Append('\n');
        builder.Append(payloadHash);
        return builder.ToString();
    }

    internal static string CanonicalUri(string rawPath)
    {
        if (rawPath.Length == 0)
        {
            return "/";
        }

        var segments = new List<string>();
        foreach (var segment in rawPath.Split('/'))
        {
            switch (segment)
            {
                case "" or ".":
                    break;
                case "..":
                    if (segments.Count > 0)
                    {
                        segments.RemoveAt(segments.Count - 1);
                    }

                    break;
                default:
                    segments.Add(segment);
                    break;
            }
        }

        if (segments.Count == 0)
        {
            return "/";
        }

        var trailingSlash = rawPath.EndsWith('/') || rawPath.EndsWith("/.", StringComparison.Ordinal) || rawPath.EndsWith("/..", StringComparison.Ordinal);
        var encoded = "/" + string.Join('/', segments.Select(Encode));
        return trailingSlash ? encoded + "/" : encoded;
    }

    internal static string CanonicalQuery(string rawQuery)
    {
        if (rawQuery.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new List<(string Name, string Value)>();
        foreach (var part in rawQuery.Split('&'))
        {
            if (part.Length == 0)
            {
                continue;
            }

            var equals = part.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? part : part[..equals];
            var value = equals < 0 ? string.Empty : part[(equals + 1)..];
            pairs.Add((Encode(Uri.UnescapeDataString(name)), Encode(Uri.UnescapeDataString(value))));
        }

        pairs.Sort((a, b) =>
        {
            var byName = string.CompareOrdinal(a.Name, b.Name);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });
        return string.Join('&', pairs.Select(p => $"{p.Name}={p.Value}"));
    }

    internal static string CanonicalHeaderValue(IEnumerable<string> values) =>
        string.Join(',', values.Select(CollapseWhitespace));

    private static string CollapseWhitespace(string value)
    {
        var builder = new StringBuilder(value.Length);
        var pendingSpace = false;
        foreach (var c in value.AsSpan().Trim())
        {
            if (char.IsWhiteSpace(c))
            {
                pendingSpace = true;
                continue;
            }

            if (pendingSpace)
            {
                builder.Append(' ');
                pendingSpace = false;
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>RFC 3986 percent-encoding of everything but the unreserved characters, over UTF-8 bytes.</summary>
    private static string Encode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}

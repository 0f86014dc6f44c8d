using System.Globalization;
using System.Text;

namespace SecretsCache.Aws.Signing;

/// <summary>
/// Builds the SigV4 canonical request (the part AWSSDK.Core does not expose publicly; the signature itself is AWSSDK.Core's).
/// General enough for the official test suite: path normalisation and encoding, sorted query, trimmed and folded headers.
/// </summary>
internal static class CanonicalRequest
{
    public static (string CanonicalRequest, string SignedHeaders) Build(
        string method, string path, string query, IEnumerable<KeyValuePair<string, string>> headers, string payloadHash, bool normalizePath = true)
    {
        var grouped = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (name, value) in headers)
        {
            var key = name.ToLowerInvariant();
            if (!grouped.TryGetValue(key, out var values))
            {
                grouped[key] = values = [];
            }

            values.Add(FoldWhitespace(value));
        }

        var signedHeaders = string.Join(';', grouped.Keys);
        var text = new StringBuilder(256)
            .Append(method).Append('\n')
            .Append(CanonicalPath(path, normalizePath)).Append('\n')
            .Append(CanonicalQuery(query)).Append('\n');
        foreach (var (name, values) in grouped)
        {
            text.Append(name).Append(':').Append(string.Join(',', values)).Append('\n');
        }

        text.Append('\n').Append(signedHeaders).Append('\n').Append(payloadHash);
        return (text.ToString(), signedHeaders);
    }

    public static string CanonicalPath(string path, bool normalize)
    {
        if (string.IsNullOrEmpty(path))
        {
            return "/";
        }

        var segments = path.Split('/');
        var output = new List<string>(segments.Length);
        for (var i = 0; i < segments.Length; i++)
        {
            var segment = segments[i];
            if (normalize && i > 0 && i < segments.Length - 1 && segment.Length == 0)
            {
                continue; // Collapse "//".
            }

            if (normalize && segment == ".")
            {
                continue;
            }

            if (normalize && segment == "..")
            {
                if (output.Count > 1)
                {
                    output.RemoveAt(output.Count - 1);
                }

                continue;
            }

            output.Add(UriEncode(Uri.UnescapeDataString(segment)));
        }

        var joined = string.Join('/', output);
        if (!joined.StartsWith('/'))
        {
            joined = "/" + joined;
        }

        if (normalize && (path.EndsWith("/.", StringComparison.Ordinal) || path.EndsWith("/..", StringComparison.Ordinal)) && !joined.EndsWith('/'))
        {
            joined += "/";
        }

        return joined;
    }

    public static string CanonicalQuery(string query)
    {
        if (string.IsNullOrEmpty(query) || query == "?")
        {
            return string.Empty;
        }

        var pairs = query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair =>
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var key = eq < 0 ? pair : pair[..eq];
                var value = eq < 0 ? string.Empty : pair[(eq + 1)..];
                return (Key: UriEncode(Uri.UnescapeDataString(key)), Value: UriEncode(Uri.UnescapeDataString(value)));
            })
            .OrderBy(p => p.Key, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal);
        return string.Join('&', pairs.Select(p => p.Key + "=" + p.Value));
    }

    /// <summary>RFC 3986 encoding as SigV4 wants it: unreserved characters kept, everything else as upper-case %XX of its UTF-8 bytes.</summary>
    public static string UriEncode(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~')
            {
                text.Append(c);
            }
            else
            {
                text.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return text.ToString();
    }

    private static string FoldWhitespace(string value)
    {
        var text = new StringBuilder(value.Length);
        var previousSpace = false;
        foreach (var c in value.Trim())
        {
            var space = c is ' ' or '\t' or '\n' or '\r';
            if (space)
            {
                if (!previousSpace)
                {
                    text.Append(' ');
                }
            }
            else
            {
                text.Append(c);
            }

            previousSpace = space;
        }

        return text.ToString();
    }
}

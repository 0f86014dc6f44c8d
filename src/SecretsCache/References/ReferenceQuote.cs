using System.Globalization;
using System.Text;

namespace SecretsCache.References;

/// <summary>
/// Quotes reference text in error messages. References are names, never values, so a message may show them; but the text is
/// the caller's, so the quote is bounded and escapes what would garble a log line (control, format and line-separator
/// characters, lone surrogates, other white space than the space, and the backslash that starts an escape).
/// </summary>
internal static class ReferenceQuote
{
    /// <summary>The most characters between the quotes; longer text is cut at a character boundary and ends with '…'.</summary>
    internal const int MaxQuotedLength = 120;

    public static string Quote(string text)
    {
        var quoted = new StringBuilder(Math.Min(text.Length, MaxQuotedLength) + 3).Append('\'');
        for (var i = 0; i < text.Length; i++)
        {
            var pair = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            var piece = pair ? text.Substring(i, 2) : Escape(text[i]);
            if (quoted.Length - 1 + piece.Length > MaxQuotedLength)
            {
                quoted.Append('\u2026');
                break;
            }

            quoted.Append(piece);
            i += pair ? 1 : 0;
        }

        return quoted.Append('\'').ToString();
    }

    /// <summary>One character as a message shows it: printable ASCII as itself, anything else as <c>\uXXXX</c>.</summary>
    public static string Printable(char c) => c is > ' ' and < '\u007f' ? c.ToString() : Hex(c);

    private static string Escape(char c) => c switch
    {
        '\\' => @"\\",
        ' ' => " ",
        _ when char.IsControl(c) || char.IsSurrogate(c) || char.IsWhiteSpace(c) => Hex(c),
        _ => char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            ? Hex(c)
            : c.ToString(),
    };

    private static string Hex(char c) => @"\u" + ((int)c).ToString("x4", CultureInfo.InvariantCulture);
}

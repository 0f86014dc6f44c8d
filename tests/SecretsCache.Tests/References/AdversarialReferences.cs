using FsCheck;
using FsCheck.Fluent;
using SecretsCache.References;

namespace SecretsCache.Tests.References;

/// <summary>
/// Reference texts built to sit on the parser's edges: every form (names, ARNs of both services, the passthrough with a
/// name or an ARN), names and whole texts a few characters either side of each limit, selectors and queries near theirs,
/// and one odd character (':' '?' '/' '%', unicode, a lone surrogate...) dropped at the start, middle or end of a name.
/// Long names repeat a short random chunk, so a case costs microseconds, not thousands of generated characters.
/// </summary>
internal static class AdversarialReferences
{
    private const string Passthrough = "/aws/reference/secretsmanager/";

    // Every length the parser or the service models bound. Names and whole texts are pushed to each, give or take 3.
    private static readonly int[] Limits =
    [
        ReferenceParser.MaxSecretNameLength,
        ReferenceParser.MaxSecretNameLength + 7,
        ReferenceParser.MaxSecretIdLength,
        ReferenceParser.MaxParameterNameLength,
        ReferenceParser.MaxReferenceLength,
    ];

    private const string SecretChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_+=.@-";
    private const string ParameterChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";

    private static readonly string[] OddCharacters =
    [
        ":", "?", "/", "//", " ", "%", "%2", "%41", "&", "=", "+", "@", "#", "\u00e9", "\u20ac", "\ud83d\udd11", "\ud800", "\udc00",
        "\u0000", "\n", "\u202e", "\u00a0", ".", "-", "_", "arn:", "ssm:", "sm:", "?stage=x", ":3", Passthrough,
    ];

    private static readonly (string Partition, string Region)[] Regions =
    [
        ("aws", "us-east-1"), ("aws", "eu-west-2"), ("aws", "mx-central-1"), ("aws-cn", "cn-north-1"), ("aws-us-gov", "us-gov-west-1"),
        ("aws-iso", "us-iso-east-1"), ("aws-iso-b", "us-isob-east-1"), ("aws-iso-e", "eu-isoe-west-1"), ("aws-iso-f", "us-isof-south-1"),
        ("aws-eusc", "eusc-de-east-1"),
    ];

    private static readonly (string Partition, string Region)[] BadRegions =
    [
        ("aws", "eu-west1"), ("aws", "cn-north-1"), ("aws-cn", "us-east-1"), ("aws", "US-EAST-1"), ("aws", "us-\u00e9ast-1"), ("aws-moon", "us-east-1"),
        ("aws", ""), ("", "us-east-1"), ("aws", "us-east-1-regional"), ("aws", "us-east-" + new string('1', 40)),
    ];

    /// <summary>Any of the forms, about half of them valid.</summary>
    public static Gen<string> Any { get; } = Gen.OneOf(
        Framed(Gen.Elements("", "sm:"), SecretChars, SecretsManagerQuery),
        Framed(Gen.Elements("", "sm:").SelectMany(scheme => Arn("secretsmanager").Select(arn => scheme + arn + "secret:")), SecretChars, SecretsManagerQuery),
        Framed(Gen.Elements("ssm:/", "ssm:/app/", "ssm:"), ParameterChars + "/", ParameterSelector),
        Framed(Gen.Elements("", "ssm:").SelectMany(scheme => Arn("ssm").Select(arn => scheme + arn + "parameter/")), ParameterChars + "/", ParameterSelector),
        Framed(Gen.Elements(Passthrough, "ssm:" + Passthrough), SecretChars, PassthroughSelector),
        Framed(Gen.Elements(Passthrough, "ssm:" + Passthrough).SelectMany(prefix => Arn("secretsmanager").Select(arn => prefix + arn + "secret:")), SecretChars, PassthroughSelector));

    private static Gen<string> SecretsManagerQuery => Gen.Frequency(
        (3, Gen.Constant(string.Empty)),
        (3, Stage.SelectMany(stage => Escaped(stage).Select(text => "?stage=" + text))),
        (3, VersionId.SelectMany(id => Escaped(id).Select(text => "?versionId=" + text))),
        (1, Gen.Elements("?", "?stage=", "?versionId=", "?stage=AWSCURRENT", "?stage=%41WSCURRENT", "?stage=a&versionId=" + new string('a', 32), "?stage=a&stage=b", "?colour=red")));

    private static Gen<string> ParameterSelector => Gen.Frequency(
        (3, Gen.Constant(string.Empty)),
        (2, Gen.Elements(":1", ":3", ":007", ":0", ":" + long.MaxValue, ":99999999999999999999", ":-1", ":3x", ":")),
        (1, Gen.Choose(1, int.MaxValue).Select(v => ":" + v)),
        (3, Label.Select(label => ":" + label)));

    private static Gen<string> PassthroughSelector => Gen.Frequency(
        (3, Gen.Constant(string.Empty)),
        (2, Gen.Elements(":AWSCURRENT", ":AWSPREVIOUS", ":AWSPENDING", ":", ":a:b", ":0f8fad5b-d9cb-469f-a165-70867728950e", ":{0f8fad5b-d9cb-469f-a165-70867728950e}", ":0f8fad5bd9cb469fa16570867728950e")),
        (3, Stage.Select(stage => ":" + stage)));

    // Stages of 1 to 256 characters (often exactly 1 or 256, sometimes one over), of ASCII, three-byte characters (9 characters escaped) or emoji.
    private static Gen<string> Stage => Gen.Elements("AWSPREVIOUS", "blue", "a", "\u20ac", "\ud83d\udd11", "a b", "&=?:/#%")
        .SelectMany(chunk => Gen.OneOf(Gen.Elements(1, 256), Gen.Choose(1, 20), Gen.Choose(250, 257)).Select(n => Repeat(chunk, n)));

    private static Gen<string> VersionId => Gen.Elements("0123456789abcdef", "0f8fad5b-d9cb-469f-a165-70867728950e", "\u20ac", "%&")
        .SelectMany(chunk => Gen.OneOf(Gen.Elements(32, 64), Gen.Choose(30, 66)).Select(n => Repeat(chunk, n)));

    // Labels of up to 100 characters (and over), some starting with what AWS forbids: a digit, 'aws' or 'ssm'.
    private static Gen<string> Label => Gen.Elements("blue", "prod-1", "a.b_c", "aws", "SSM", "x", "-x", ".x")
        .SelectMany(chunk => Gen.OneOf(Gen.Elements(1, 100), Gen.Choose(1, 12), Gen.Choose(98, 102)).Select(n => Repeat(chunk, n)));

    private static Gen<string> Arn(string service) =>
        Gen.Frequency((6, Gen.Elements(Regions)), (1, Gen.Elements(BadRegions))).SelectMany(pr =>
            Gen.Frequency((6, Gen.Constant("123456789012")), (1, Gen.Elements("12345678901", "1234567890123", "12345678901a", ""))).SelectMany(account =>
                Gen.Frequency((8, Gen.Constant(service)), (1, Gen.Elements("s3", "secretsmanager", "ssm"))).Select(svc =>
                    $"arn:{pr.Partition}:{svc}:{pr.Region}:{account}:")));

    private static Gen<string> Escaped(string value) =>
        Gen.Frequency((3, Gen.Constant(Uri.EscapeDataString(value))), (1, Gen.Constant(value)));

    /// <summary>
    /// Fills the name between a generated prefix and suffix, so that the name, the whole text, or the text after its scheme
    /// (what AWS receives: "name:selector" is one PSParameterName) lands near a limit.
    /// </summary>
    private static Gen<string> Framed(Gen<string> before, string alphabet, Gen<string> after) =>
        before.SelectMany(b => after.SelectMany(a =>
        {
            var scheme = b.StartsWith("ssm:", StringComparison.Ordinal) ? 4 : b.StartsWith("sm:", StringComparison.Ordinal) ? 3 : 0;
            return Gen.OneOf(
                    Gen.Choose(1, 40),
                    Gen.Elements(Limits).SelectMany(limit => Off.Select(d => limit + d)),
                    Gen.Elements(Limits).SelectMany(limit => Off.Select(d => limit - b.Length - a.Length + d)),
                    Gen.Elements(Limits).SelectMany(limit => Off.Select(d => limit - (b.Length - scheme) - a.Length + d)))
                .SelectMany(length => Name(alphabet, Math.Max(1, length)).Select(name => b + name + a));
        }));

    // How far from a limit: on it half of the time, else up to 3 either side.
    private static Gen<int> Off => Gen.OneOf(Gen.Constant(0), Gen.Choose(-3, 3));

    private static Gen<string> Name(string alphabet, int length) =>
        Gen.Choose(1, 6).SelectMany(n => Gen.Elements(alphabet.ToCharArray()).ArrayOf(n)).SelectMany(chunk =>
            Gen.Frequency(
                (3, Gen.Constant(Repeat(new string(chunk), length))),
                (2, Gen.Elements(OddCharacters).SelectMany(odd => Gen.Elements(0, 1, 2).Select(where =>
                {
                    var name = Repeat(new string(chunk), length);
                    var at = where switch { 0 => 0, 1 => name.Length / 2, _ => name.Length };
                    return name[..at] + odd + name[at..];
                })))));

    private static string Repeat(string chunk, int length)
    {
        var text = string.Concat(Enumerable.Repeat(chunk, (length / chunk.Length) + 1));
        var end = length;
        if (end > 0 && char.IsHighSurrogate(text[end - 1]))
        {
            end--; // keep repeated emoji whole: the lone surrogates come from OddCharacters, on purpose
        }

        return text[..end];
    }
}

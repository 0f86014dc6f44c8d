using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using SecretsCache.References;
using SecretsCache.Rotation;

namespace SecretsCache.Tests.References;

/// <summary>
/// Properties of the reference parser over generated input: it is total (a reference, or an <see cref="ArgumentException"/>
/// that quotes the text, bounded and escaped; nothing else ever escapes), and every accepted reference's canonical text, and
/// the AWSPENDING spelling ExecuteAsync derives from it, parse back to an equal reference.
/// </summary>
public sealed class ReferenceParserPropertyTests
{
    private static readonly Config Many = Config.QuickThrowOnFailure.WithMaxTest(3_000);

    // Enough cases to land on rare edges (a passthrough ARN a few characters under the length cap was one); about a second.
    private static readonly Config Thousands = Config.QuickThrowOnFailure.WithMaxTest(10_000);

    // Pieces of real syntax, so generated strings reach deep into the parser instead of failing on the first character.
    private static readonly string[] Fragments =
    [
        "sm:", "ssm:", "arn:", "aws", "aws-cn", "aws-us-gov", ":", "::", "secretsmanager", "ssm", "s3", "us-east-1", "cn-north-1",
        "123456789012", "12345", "secret:", "parameter", "parameter/", "/", "//", "app", "db", "-", "_", ".", "@", "+", "=",
        "?", "&", "stage=", "versionId=", "AWSCURRENT", "AWSPREVIOUS", "%", "%2", "%26", "%3F", "%ZZ", "%00", "%E2%82%AC", "3", "0",
        "99999999999999999999", "/aws/reference/secretsmanager/", "0f8fad5b-d9cb-469f-a165-70867728950e", "{0f8fad5b-d9cb-469f-a165-70867728950e}",
        "0123456789abcdef0123456789abcdef", "label", "ssmx", " ", "\t", "\u00e9", "\ud83d\udd11", "\ud800", "\u0000", "\u202e",
    ];

    private static readonly Gen<string> FragmentStrings =
        Gen.Elements(Fragments).ListOf().Select(parts => string.Concat(parts));

    private static readonly Gen<string> AnyString =
        Gen.OneOf(ArbMap.Default.ArbFor<string>().Generator, FragmentStrings, Gen.Constant<string>(null!));

    [Fact]
    public void Any_string_either_parses_and_round_trips_or_throws_an_ArgumentException_that_quotes_it()
    {
        Check.One(Thousands, Prop.ForAll(AnyString.ToArbitrary(), AssertTotal));
    }

    [Fact]
    public void Every_reference_near_a_limit_round_trips_or_is_refused_up_front()
    {
        Check.One(Thousands, Prop.ForAll(AdversarialReferences.Any.ToArbitrary(), AssertTotal));
    }

    [Fact]
    public void The_adversarial_generator_reaches_every_limit_with_accepted_references()
    {
        // Guards the property above against a generator whose cases are all refused, which would make it vacuous.
        // 6,000 samples: the rarest shape below comes up about 15 times, so a miss is not bad luck.
        var accepted = AdversarialReferences.Any.Sample(6_000).Select(text => SecretReference.TryParse(text, out var r) ? r : null).OfType<SecretReference>().ToList();

        Assert.InRange(accepted.Count, 1_000, 5_000);
        Assert.Contains(accepted, r => r.Store == SecretStore.SecretsManager && r.Region is null && r.Name.Length == ReferenceParser.MaxSecretNameLength);
        Assert.Contains(accepted, r => r.Store == SecretStore.SecretsManager && r.Region is not null && r.VersionStage?.Length == ReferenceParser.MaxVersionStageLength);
        Assert.Contains(accepted, r => r.Store == SecretStore.SecretsManager && r.VersionId?.Length is ReferenceParser.MinVersionIdLength or ReferenceParser.MaxVersionIdLength);
        Assert.Contains(accepted, r => r.Store == SecretStore.ParameterStore && !r.IsPassthrough && r.Name.Length + (r.ParameterSelector?.Length + 1 ?? 0) == ReferenceParser.MaxParameterNameLength);
        Assert.Contains(accepted, r => r.ParameterLabel?.Length == ReferenceParser.MaxLabelLength);
        Assert.Contains(accepted, r => r.Store == SecretStore.ParameterStore && r.Region is not null && r.ParameterVersion is not null);
        Assert.Contains(accepted, r => r.IsPassthrough && r.Name.Contains(":secret:", StringComparison.Ordinal) && r.VersionStage is not null);
        Assert.Contains(accepted, r => r.IsPassthrough && r.VersionId is not null);
        Assert.Contains(accepted, r => r.Partition is "aws-iso-f" or "aws-eusc");
    }

    private static void AssertTotal(string? text)
    {
        SecretReference reference;
        try
        {
            reference = SecretReference.Parse(text!);
        }
        catch (ArgumentException error) when (text is null)
        {
            Assert.IsType<ArgumentNullException>(error);
            return;
        }
        catch (ArgumentException error)
        {
            AssertNamesTheProblemAndQuotes(error);
            Assert.False(SecretReference.TryParse(text, out _));
            return;
        }
        catch (Exception other)
        {
            Assert.Fail($"Parse threw {other.GetType().Name}, not an ArgumentException: {other.Message}");
            return;
        }

        AssertRoundTrips(reference);
        Assert.True(SecretReference.TryParse(text, out var again));
        Assert.Equal(reference, again);

        // ExecuteAsync parses this spelling after an authentication failure; it must never be the first to fail.
        if (RotationExecutor.PendingReferenceOf(reference) is { } pending)
        {
            AssertRoundTrips(SecretReference.Parse(pending));
        }
    }

    private static void AssertNamesTheProblemAndQuotes(ArgumentException error)
    {
        Assert.Equal("reference", error.ParamName);
        Assert.StartsWith("Invalid secret reference '", error.Message, StringComparison.Ordinal);
        Assert.InRange(error.Message.Length, 40, 800);

        // Plain loops: xunit's collection assertions would format the message for every one of the thousands of cases.
        var message = error.Message;
        for (var i = 0; i < message.Length; i++)
        {
            if (char.IsSurrogatePair(message, i))
            {
                i++;
            }
            else if (char.IsControl(message[i]) || char.IsSurrogate(message[i])
                || char.GetUnicodeCategory(message[i]) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                Assert.Fail($"The message holds U+{(int)message[i]:X4} at {i}: {message}");
            }
        }
    }

    [Theory]
    [InlineData("app?stage=%ED%A0%80")]
    [InlineData("app?stage=%C3%A9")]
    [InlineData("app?stage=%")]
    [InlineData("app?stage=a%2")]
    [InlineData("app?stage=%00")]
    [InlineData("app?stage=a%26versionId%3Dx")]
    [InlineData("app?stage=%41WSCURRENT")]
    [InlineData("ssm:/app/x:007")]
    [InlineData("/aws/reference/secretsmanager/app:{0f8fad5b-d9cb-469f-a165-70867728950e}")]
    [InlineData("/aws/reference/secretsmanager/app:a:b")]
    public void Escapes_and_odd_selectors_round_trip(string text) => AssertRoundTrips(SecretReference.Parse(text));

    [Fact]
    public void Every_valid_reference_round_trips_through_its_canonical_text()
    {
        Check.One(Many, Prop.ForAll(ValidReferences.ToArbitrary(), text => AssertRoundTrips(SecretReference.Parse(text))));
    }

    [Fact]
    public void The_generator_of_valid_references_covers_every_form()
    {
        // Guards the property above against a generator that quietly produces only one shape.
        var sample = ValidReferences.Sample(500).Select(SecretReference.Parse).ToList();

        Assert.Contains(sample, r => r.Store == SecretStore.SecretsManager && r.Region is null && r.VersionStage is not null);
        Assert.Contains(sample, r => r.Store == SecretStore.SecretsManager && r.VersionId is not null);
        Assert.Contains(sample, r => r.Store == SecretStore.SecretsManager && r.Partition is "aws-cn" or "aws-us-gov");
        Assert.Contains(sample, r => r.Store == SecretStore.ParameterStore && r.ParameterVersion is not null && r.Region is null);
        Assert.Contains(sample, r => r.Store == SecretStore.ParameterStore && r.ParameterLabel is not null && r.Region is not null);
        Assert.Contains(sample, r => r.IsPassthrough && r.VersionId is not null);
        Assert.Contains(sample, r => r.IsPassthrough && r.VersionStage is not null);
    }

    private static void AssertRoundTrips(SecretReference reference)
    {
        var text = reference.ToString();
        var again = SecretReference.Parse(text);

        Assert.Equal(reference, again);
        Assert.Equal(reference.GetHashCode(), again.GetHashCode());
        Assert.Equal(text, again.ToString());
        Assert.Equal(reference.Store, again.Store);
        Assert.Equal(reference.Name, again.Name);
        Assert.Equal(reference.VersionStage, again.VersionStage);
        Assert.Equal(reference.VersionId, again.VersionId);
        Assert.Equal(reference.ParameterVersion, again.ParameterVersion);
        Assert.Equal(reference.ParameterLabel, again.ParameterLabel);
        Assert.Equal(reference.IsPassthrough, again.IsPassthrough);
        Assert.Equal(reference.Region, again.Region);
        Assert.Equal(reference.AccountId, again.AccountId);
        Assert.Equal(reference.Partition, again.Partition);
    }

    private static Gen<string> StringOf(string alphabet, int min, int max) =>
        Gen.Choose(min, max).SelectMany(n => Gen.Elements(alphabet.ToCharArray()).ArrayOf(n)).Select(chars => new string(chars));

    private const string Alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    private static readonly Gen<string> SecretName = StringOf(Alnum + "/_+=.@-", 1, 40);

    private static readonly Gen<string> ParameterName =
        StringOf(Alnum + "_.-", 1, 12).ListOf().Where(l => l.Count > 0).Select(segments => "/" + string.Join('/', segments));

    private static readonly Gen<string> Stage =
        Gen.OneOf(Gen.Elements("AWSCURRENT", "AWSPREVIOUS", "AWSPENDING", "blue"), StringOf(Alnum + " &=?%/:#", 1, 20));

    private static readonly Gen<string> VersionId = StringOf(Alnum + "-&%", 32, 64);

    private static readonly Gen<string> Label = StringOf("bcdefghijklmnopqrtuvwxyz", 1, 1).SelectMany(first => StringOf(Alnum + ".-_", 0, 30).Select(rest => first + rest));

    private static readonly Gen<string> ArnPrefix =
        Gen.Elements(("aws", "us-east-1"), ("aws", "eu-west-2"), ("aws-cn", "cn-north-1"), ("aws-us-gov", "us-gov-west-1"))
            .Select(pr => $"arn:{pr.Item1}:{{0}}:{pr.Item2}:123456789012:");

    private static readonly Gen<string> SecretsManagerQuery = Gen.OneOf(
        Gen.Constant(string.Empty),
        Stage.Select(s => "?stage=" + Uri.EscapeDataString(s)),
        VersionId.Select(v => "?versionId=" + Uri.EscapeDataString(v)));

    private static readonly Gen<string> ParameterSelector = Gen.OneOf(
        Gen.Constant(string.Empty),
        Gen.Choose(1, int.MaxValue).Select(v => ":" + v),
        Label.Select(l => ":" + l));

    private static readonly Gen<string> ValidReferences = Gen.OneOf(
        // Secrets Manager by name, with or without the scheme.
        Gen.Elements("", "sm:").SelectMany(scheme => SecretName.SelectMany(name => SecretsManagerQuery.Select(q => scheme + name + q))),
        // Secrets Manager by ARN.
        ArnPrefix.SelectMany(arn => SecretName.SelectMany(name => SecretsManagerQuery.Select(q => string.Format(null, arn, "secretsmanager") + "secret:" + name + q))),
        // Parameter Store by name.
        ParameterName.SelectMany(name => ParameterSelector.Select(sel => "ssm:" + name + sel)),
        // Parameter Store by ARN, with or without the scheme.
        Gen.Elements("", "ssm:").SelectMany(scheme => ArnPrefix.SelectMany(arn => ParameterName.SelectMany(name =>
            ParameterSelector.Select(sel => scheme + string.Format(null, arn, "ssm") + "parameter" + name + sel)))),
        // The Secrets Manager passthrough.
        // (Its secret name must also be a valid parameter name: no + = @, no empty segment; and at most 512 characters.)
        Gen.Elements("", "ssm:").SelectMany(scheme => ParameterName.Where(name => name.Length <= ReferenceParser.MaxSecretNameLength).SelectMany(name => Gen.OneOf(
            Gen.Constant(string.Empty),
            Gen.Elements(":AWSCURRENT", ":AWSPREVIOUS", ":blue"),
            Gen.Fresh(() => ":" + Guid.NewGuid())).Select(sel => scheme + "/aws/reference/secretsmanager" + name + sel))));
}

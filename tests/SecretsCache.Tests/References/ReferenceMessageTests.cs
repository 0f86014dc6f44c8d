namespace SecretsCache.Tests.References;

/// <summary>What a new user reads when a reference is refused: the problem, named, and the reference quoted (bounded, escaped).</summary>
public sealed class ReferenceMessageTests
{
    [Theory]
    [InlineData("SSM:/app/x", "SSM:")]
    [InlineData("Sm:app/db", "Sm:")]
    [InlineData("ssn:/app/x", "ssn:")]
    [InlineData("secretsmanager:app/db", "secretsmanager:")]
    [InlineData("ARN:aws:secretsmanager:us-east-1:123456789012:secret:app", "ARN:")]
    public void An_unknown_prefix_is_named_as_a_prefix(string text, string prefix)
    {
        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

        Assert.Contains($"Unknown prefix '{prefix}'; prefixes are 'sm:' and 'ssm:'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("contains ':'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SSM:/app/x")]
    [InlineData("SM:app/db")]
    public void A_known_prefix_in_the_wrong_case_says_prefixes_are_lower_case(string text) =>
        Assert.Contains("lower case", Assert.Throws<ArgumentException>(() => SecretReference.Parse(text)).Message, StringComparison.Ordinal);

    [Fact]
    public void An_upper_case_ARN_is_told_that_ARNs_start_with_arn() =>
        Assert.Contains(
            "start with 'arn:'",
            Assert.Throws<ArgumentException>(() => SecretReference.Parse("ARN:aws:secretsmanager:us-east-1:123456789012:secret:app")).Message,
            StringComparison.Ordinal);

    [Theory]
    [InlineData("app/db:3")]        // not a short alphabetic run: a name with a ':' in it
    [InlineData("app.db:3")]
    [InlineData("app db:x")]
    public void A_colon_after_something_that_is_not_a_prefix_is_still_a_bad_character(string text) =>
        Assert.Contains("contains", Assert.Throws<ArgumentException>(() => SecretReference.Parse(text)).Message, StringComparison.Ordinal);

    [Theory]
    [InlineData("app db")]
    [InlineData("SSM:/app/x")]
    [InlineData("ssm:/app/x:0")]
    [InlineData("arn:aws:secretsmanager:eu-west1:123456789012:secret:app")]
    [InlineData("/aws/reference/secretsmanager/")]
    public void The_message_quotes_the_reference_it_rejects(string text)
    {
        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

        Assert.Contains($"'{text}'", error.Message, StringComparison.Ordinal);
        Assert.Equal("reference", error.ParamName);
    }

    [Fact]
    public void A_huge_reference_is_quoted_truncated_with_an_ellipsis()
    {
        var huge = "app/" + new string('x', 100_000);

        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(huge));

        Assert.True(error.Message.Length < 400, $"The message is {error.Message.Length} characters long.");
        Assert.Contains("'app/xxxx", error.Message, StringComparison.Ordinal);
        Assert.Contains("\u2026'", error.Message, StringComparison.Ordinal);
        Assert.Contains("100004 characters long", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("app\u0000db", "app\\u0000db")]
    [InlineData("app\ndb", "app\\u000adb")]
    [InlineData("app\u001b[31mdb", "app\\u001b[31mdb")]
    [InlineData("app\u202edb", "app\\u202edb")]   // a bidi override would reorder the log line
    [InlineData("app\u2028db", "app\\u2028db")]   // a line separator would split it
    [InlineData("app\\db", "app\\\\db")]          // so that an escape in the message is never ambiguous
    public void Control_and_format_characters_in_the_quote_are_escaped(string text, string quoted)
    {
        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

        Assert.Contains($"'{quoted}'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(error.Message, c => char.IsControl(c) || c is '\u202e' or '\u2028');
    }

    [Fact]
    public void A_long_run_of_escaped_characters_is_still_bounded()
    {
        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse("app" + new string('\u0001', 3_000)));

        Assert.True(error.Message.Length < 400, $"The message is {error.Message.Length} characters long.");
        Assert.Contains("\u2026'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_quote_never_splits_a_surrogate_pair()
    {
        for (var pad = 0; pad < 4; pad++)
        {
            var text = "app " + new string('a', pad) + string.Concat(Enumerable.Repeat("\ud83d\udd11", 200));

            var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

            Assert.True(IsWellFormedUtf16(error.Message), error.Message);
        }
    }

    [Theory]
    [InlineData("app\ud83d\udd11", "contains '\\ud83d'")]
    [InlineData("app\u00e9", "contains '\\u00e9'")]
    [InlineData("ssm:/app/\u00a0x", "contains '\\u00a0'")]
    public void A_character_AWS_refuses_is_named_escaped_unless_it_is_printable_ASCII(string text, string expected)
    {
        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse(text));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.True(IsWellFormedUtf16(error.Message), error.Message);
    }

    [Fact]
    public void Parts_of_an_ARN_echoed_in_the_message_are_escaped_and_bounded()
    {
        var error = Assert.Throws<ArgumentException>(() => SecretReference.Parse("arn:aws-\n" + new string('m', 2_000) + ":secretsmanager:us-east-1:123456789012:secret:x"));

        Assert.Contains("unknown partition 'aws-\\u000amm", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(error.Message, char.IsControl);
        Assert.True(error.Message.Length < 600, $"The message is {error.Message.Length} characters long.");
    }

    private static bool IsWellFormedUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}

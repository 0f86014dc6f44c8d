using System.Globalization;
using System.Text.RegularExpressions;

namespace SecretsCache.Hosting.Tests.Sample;

/// <summary>
/// The README's first command, <c>dotnet run --project samples/QuickStart</c>, on a machine with no AWS credentials: the
/// demo runs on the embedded emulator. One run (<see cref="QuickStartRun"/>) is shared by the tests, which read what it
/// printed. Every line is matched in order, so a step that is missing, moved or reworded fails here.
/// </summary>
public sealed class QuickStartTests(QuickStartRun run) : IClassFixture<QuickStartRun>
{
    /// <summary>What Program.cs prints, one pattern per line, in order.</summary>
    private static readonly string[] ExpectedLines =
    [
        @"No AWS credentials configured: running on the embedded loopback emulator \(real wire protocol, SigV4-verified\)\.",
        // 1. Typed reads.
        @"1,000 concurrent reads of demo/db: user 'app', (?<calls>\d+) GetSecretValue call \(\d+ ms\)\.",
        @"100,000 cached reads: \d+ ns each, still (?<calls>\d+) backend call\.",
        // 2. Parameter Store, a path, the passthrough.
        @"GetPathAsync\(/demo/prod/\): /demo/prod/api-key, /demo/prod/api-url",
        @"ssm:/demo/prod/api-url = https://api\.example\.com",
        @"Passthrough: Secret \{ Name = /aws/reference/secretsmanager/demo/db, Version = (?<version>\S+), Stages = \[AWSCURRENT\], FetchedAt = [^,]+, Value = \*\*\* \}",
        // 3. Rotation.
        @"Rotated demo/db: version (?<before>\S{8})\.\.\. -> (?<after>\S{8})\.\.\.",
        // 4. The backend fails.
        @"With no cached value and AWS failing: SecretServiceUnavailableException after retries \(ServiceUnavailable\)\.",
        @"Its TTL has run out and AWS fails, yet the last good value is served \(fetched (?<ago>\d+) ms ago\): https://api\.example\.com",
        // 5. Bad input.
        @"Bad reference: (?<message>.+)",
        @"Backend requests in all: (?<total>\d+) \((?<throttled>\d+) throttled\)\.",
    ];

    /// <summary>The values the sample stores as secrets (a SecureString parameter and two versions of a secret): never printed.</summary>
    public static TheoryData<string> SecretValues =>
    [
        "first-password",
        "second-password",
        "k-123",
        """{"username":"app","password":"first-password"}""",
        """{"username":"app","password":"second-password"}""",
    ];

    [Fact]
    public void Without_AWS_credentials_it_runs_the_demo_on_the_emulator_and_exits_0()
    {
        Assert.True(run.ExitCode == 0, run.Transcript);
        Assert.True(run.StandardError.Length == 0, run.Transcript);
        Assert.True(run.Lines.Count == ExpectedLines.Length, $"expected {ExpectedLines.Length} lines\n{run.Transcript}");
        for (var i = 0; i < ExpectedLines.Length; i++)
        {
            Line(i);
        }
    }

    [Fact]
    public void A_thousand_concurrent_reads_make_one_GetSecretValue_call_and_a_hundred_thousand_cached_reads_none()
    {
        Assert.Equal(1, Number(Line(1), "calls"));
        Assert.Equal(1, Number(Line(2), "calls"));
    }

    [Fact]
    public void Rotation_shows_the_version_read_before_and_a_different_one_after()
    {
        var passthroughVersion = Line(5).Groups["version"].Value;
        var rotation = Line(6);
        var before = rotation.Groups["before"].Value;
        var after = rotation.Groups["after"].Value;

        Assert.NotEqual(before, after);
        Assert.StartsWith(before, passthroughVersion, StringComparison.Ordinal); // the passthrough read the same AWSCURRENT
    }

    [Fact]
    public void While_AWS_fails_an_uncached_read_throws_and_an_expired_one_is_served_stale()
    {
        Line(7);
        var ago = Number(Line(8), "ago");
        Assert.True(ago >= 200, $"the stale value was fetched {ago} ms ago, within its 200 ms TTL\n{run.Transcript}");
    }

    [Fact]
    public void A_bad_reference_fails_with_a_message_naming_the_problem()
    {
        var message = Line(9).Groups["message"].Value;

        Assert.Contains("version id", message, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("(Parameter 'reference')", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_backend_saw_only_the_requests_the_steps_need_and_none_was_throttled()
    {
        var totals = Line(10);

        // Fewest (8): GetSecretValue, GetParametersByPath, the passthrough GetParameter, the rotation's GetSecretValue, and
        // api-key's 1 + 3 retries, which all fail before it throws. At normal speed 12: the expired api-url's 4 attempts too.
        // Most (16): api-url's 200 ms TTL is timing-dependent by design, so on a slow machine its read in step 2 may also
        // fetch (expired, or past refresh-ahead), and that fetch may meet the faults: 4 attempts more at most.
        var total = Number(totals, "total");
        Assert.True(total is >= 8 and <= 16, $"{total} backend requests\n{run.Transcript}");
        Assert.Equal(0, Number(totals, "throttled"));
    }

    [Theory]
    [MemberData(nameof(SecretValues))]
    public void No_secret_value_is_printed(string value)
    {
        Assert.True(run.ExitCode == 0, run.Transcript); // a run that printed nothing proves nothing
        Assert.Contains("https://api.example.com", run.StandardOutput, StringComparison.Ordinal); // a String parameter, printed on purpose
        Assert.DoesNotContain(value, run.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain(value, run.StandardError, StringComparison.Ordinal);
    }

    private Match Line(int index)
    {
        Assert.True(index < run.Lines.Count, $"line {index + 1} is missing\n{run.Transcript}");
        var match = Regex.Match(run.Lines[index], $"^{ExpectedLines[index]}$");
        Assert.True(match.Success, $"line {index + 1} does not match {ExpectedLines[index]}\n{run.Transcript}");
        return match;
    }

    private static int Number(Match match, string group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);
}

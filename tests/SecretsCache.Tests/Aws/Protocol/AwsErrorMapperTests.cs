using System.Text.Json;
using SecretsCache.Aws.Protocol;
using SecretsCache.Tests.Support;

namespace SecretsCache.Tests.Aws.Protocol;

/// <summary>Error mapping, checked against AWS's retry definitions and the error shapes in the service models.</summary>
public sealed class AwsErrorMapperTests
{
    public static TheoryData<string?, int> RetryablePolicies()
    {
        // Every "__default__" policy of shared/aws-models/common/_retry.json that names a code or a status.
        using var retry = JsonDocument.Parse(File.ReadAllText(SharedFiles.Path("aws-models", "common", "_retry.json")));
        var definitions = retry.RootElement.GetProperty("definitions");
        var data = new TheoryData<string?, int>();
        foreach (var policy in retry.RootElement.GetProperty("retry").GetProperty("__default__").GetProperty("policies").EnumerateObject())
        {
            var definition = policy.Value.TryGetProperty("$ref", out var reference) ? definitions.GetProperty(reference.GetString()!) : policy.Value;
            if (definition.GetProperty("applies_when").TryGetProperty("response", out var response))
            {
                var code = response.TryGetProperty("service_error_code", out var c) ? c.GetString() : null;
                var status = response.TryGetProperty("http_status_code", out var s) ? s.GetInt32() : 400;
                data.Add(code, status);
            }
        }

        return data;
    }

    [Fact]
    public void The_retry_definitions_were_loaded() => Assert.True(RetryablePolicies().Count >= 10);

    [Theory]
    [MemberData(nameof(RetryablePolicies))]
    public void Every_retryable_code_and_status_of_the_AWS_definitions_maps_to_a_transient_exception(string? code, int status)
    {
        var error = AwsErrorMapper.Map("Secrets Manager", status, code, "Rate exceeded", "sm:app/db");
        Assert.True(error.IsTransient, $"{code ?? "(no code)"} / {status} mapped to {error.GetType().Name}");
        if (code?.Contains("Thrott", StringComparison.Ordinal) == true || status == 429)
        {
            Assert.IsType<SecretThrottledException>(error);
        }
    }

    public static TheoryData<string, string> ModelErrors()
    {
        var data = new TheoryData<string, string>();
        var seen = new HashSet<(string, string)>();
        foreach (var (service, operations) in new[]
                 {
                     ("secretsmanager", new[] { "GetSecretValue", "BatchGetSecretValue", "DescribeSecret" }),
                     ("ssm", new[] { "GetParameter", "GetParameters", "GetParametersByPath" }),
                 })
        {
            using var model = JsonDocument.Parse(File.ReadAllText(SharedFiles.Path("aws-models", service, "service-2.json")));
            foreach (var operation in operations)
            {
                foreach (var error in model.RootElement.GetProperty("operations").GetProperty(operation).GetProperty("errors").EnumerateArray())
                {
                    var code = error.GetProperty("shape").GetString()!;
                    if (seen.Add((service, code)))
                    {
                        data.Add(service, code);
                    }
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ModelErrors))]
    public void Every_error_the_models_list_for_the_reads_maps_to_a_specific_type(string service, string code)
    {
        var error = AwsErrorMapper.Map(service, code.StartsWith("Internal", StringComparison.Ordinal) ? 500 : 400, code, "details", "ref");
        Type expected = code switch
        {
            "ResourceNotFoundException" or "ParameterNotFound" or "ParameterVersionNotFound" => typeof(SecretNotFoundException),
            "DecryptionFailure" or "InvalidKeyId" => typeof(SecretDecryptionException),
            "InternalServiceError" or "InternalServerError" => typeof(SecretServiceUnavailableException),
            _ when code.StartsWith("Invalid", StringComparison.Ordinal) => typeof(SecretRequestException),
            _ => throw new Xunit.Sdk.XunitException($"The model lists {code}, which this test does not know: decide how it maps."),
        };
        Assert.IsType(expected, error);
        Assert.Equal(code, error.ErrorCode);
        Assert.Equal("ref", error.Reference);
    }

    [Fact]
    public void Access_denied_that_names_an_action_says_the_policy_lacks_that_action_and_does_not_blame_kms()
    {
        var error = AwsErrorMapper.Map(
            "Secrets Manager",
            400,
            "AccessDeniedException",
            "User: arn:aws:iam::123456789012:user/app is not authorized to perform: secretsmanager:GetSecretValue on resource: arn:aws:secretsmanager:eu-west-1:123456789012:secret:app/db because no identity-based policy allows the secretsmanager:GetSecretValue action",
            "sm:app/db");
        Assert.IsType<SecretAccessDeniedException>(error);
        Assert.Contains("lacks secretsmanager:GetSecretValue", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("kms:Decrypt", error.Message, StringComparison.Ordinal);
        Assert.False(error.IsTransient);
    }

    [Theory]
    [InlineData("User: arn:aws:iam::123456789012:role/app is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:eu-west-1:123456789012:key/1234")]
    [InlineData("Access to KMS is not allowed")]
    public void Access_denied_that_mentions_kms_points_at_the_key(string awsMessage)
    {
        var error = AwsErrorMapper.Map("Parameter Store", 400, "AccessDeniedException", awsMessage, "ssm:/app/key");
        Assert.IsType<SecretAccessDeniedException>(error);
        Assert.Contains("KMS key", error.Message, StringComparison.Ordinal);
        Assert.Contains("kms:Decrypt", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Access_denied_that_names_nothing_gives_the_generic_hint()
    {
        var error = AwsErrorMapper.Map("Parameter Store", 400, "AccessDeniedException", "User is not authorized", "ssm:/app/key");
        Assert.IsType<SecretAccessDeniedException>(error);
        Assert.Contains("read permission", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("usual cause", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_status_without_a_code_is_named_once()
    {
        var error = AwsErrorMapper.Map("Secrets Manager", 500, null, null, "sm:x");
        Assert.IsType<SecretServiceUnavailableException>(error);
        Assert.DoesNotContain("HTTP 500, HTTP 500", error.Message, StringComparison.Ordinal);
        Assert.Contains("(HTTP 500)", error.Message, StringComparison.Ordinal);

        var rejected = AwsErrorMapper.Map("Secrets Manager", 418, null, null, "sm:x");
        Assert.Contains("(HTTP 418)", rejected.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.")]
    [InlineData("AccessDeniedException", "Not allowed.")]
    [InlineData("DecryptionFailure", "The key is disabled.")]
    public void An_aws_message_ending_in_a_full_stop_is_not_followed_by_another(string code, string awsMessage)
    {
        var error = AwsErrorMapper.Map("Secrets Manager", 400, code, awsMessage, "sm:x");
        Assert.DoesNotContain("..", error.Message, StringComparison.Ordinal);
        Assert.Contains(awsMessage.TrimEnd('.'), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_huge_aws_message_is_cut_to_a_few_hundred_characters()
    {
        var huge = new string('x', 20 * 1024 * 1024);
        var error = AwsErrorMapper.Map("Secrets Manager", 400, "ValidationException", huge, "sm:x");
        Assert.InRange(error.Message.Length, 1, 1_000);
        Assert.Contains("xxxx", error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Control_and_format_characters_of_an_aws_message_are_escaped()
    {
        var error = AwsErrorMapper.Map("Secrets Manager", 400, "ValidationException", "bad\r\nINFO forged log line\u001b[31m\u202eevil", "sm:x");
        Assert.DoesNotContain('\r', error.Message);
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain('\u001b', error.Message);
        Assert.DoesNotContain('\u202e', error.Message);
        Assert.Contains(@"bad\r\nINFO forged log line\u001B[31m\u202Eevil", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Throttling\nException")]
    [InlineData("<html><body>Bad gateway</body></html>")]
    public void A_code_that_is_not_an_identifier_is_not_kept(string type)
    {
        var error = AwsErrorMapper.Map("Secrets Manager", 502, type, null, "sm:x");
        Assert.IsType<SecretServiceUnavailableException>(error);
        Assert.Null(error.ErrorCode); // it would become a metric tag
        Assert.DoesNotContain('\n', error.Message);
        Assert.DoesNotContain("<html>", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_huge_code_is_not_kept()
    {
        var error = AwsErrorMapper.Map("Secrets Manager", 400, new string('A', 1_000_000), null, "sm:x");
        Assert.Null(error.ErrorCode);
        Assert.InRange(error.Message.Length, 1, 1_000);
    }

    [Theory]
    [InlineData("UnrecognizedClientException")]
    [InlineData("InvalidSignatureException")]
    [InlineData("ExpiredTokenException")]
    public void Credential_rejections_are_access_denied_and_not_retried(string code) =>
        Assert.IsType<SecretAccessDeniedException>(AwsErrorMapper.Map("Secrets Manager", 400, code, null, null));

    [Theory]
    [InlineData("com.amazonaws.secretsmanager#ResourceNotFoundException", "ResourceNotFoundException")]
    [InlineData("ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.availability/", "ThrottlingException")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Namespaced_and_suffixed_codes_are_normalised(string? type, string expected) =>
        Assert.Equal(expected, AwsErrorMapper.NormalizeCode(type));

    [Fact]
    public void Unknown_codes_still_give_a_clear_exception()
    {
        var error = AwsErrorMapper.Map("Secrets Manager", 400, "BrandNewException", "Something new", "sm:x");
        Assert.IsType<SecretRequestException>(error);
        Assert.Contains("BrandNewException", error.Message, StringComparison.Ordinal);
        Assert.Contains("'sm:x'", error.Message, StringComparison.Ordinal);

        var server = AwsErrorMapper.Map("Secrets Manager", 503, null, null, "sm:x");
        Assert.IsType<SecretServiceUnavailableException>(server);
        Assert.Contains("503", server.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("InvalidSignatureException", "Signature expired: 20260101T000000Z is now earlier than 20260101T001000Z (20260101T001500Z - 5 min.)", true)]
    [InlineData("InvalidSignatureException", "Signature not yet current: 20260101T002000Z is still later than 20260101T001000Z", true)]
    [InlineData("RequestExpired", null, true)]
    [InlineData("InvalidSignatureException", "The request signature we calculated does not match the signature you provided.", false)]
    [InlineData("ThrottlingException", "Rate exceeded", false)]
    public void Clock_skew_rejections_are_recognised(string code, string? message, bool expected) =>
        Assert.Equal(expected, AwsErrorMapper.IsClockSkew(code, message));

    [Theory]
    [InlineData("ResourceNotFoundException", typeof(SecretNotFoundException))]
    [InlineData("DecryptionFailure", typeof(SecretDecryptionException))]
    [InlineData("AccessDeniedException", typeof(SecretAccessDeniedException))]
    [InlineData("InternalServiceError", typeof(SecretServiceUnavailableException))]
    [InlineData("ThrottlingException", typeof(SecretThrottledException))]
    [InlineData("InvalidParameterException", typeof(SecretRequestException))]
    public void A_batch_entry_error_is_mapped_by_its_code_alone_without_a_made_up_HTTP_status(string code, Type expected)
    {
        var error = AwsErrorMapper.MapEntryError("Secrets Manager", code, "why", "sm:app/db");

        Assert.IsType(expected, error);
        Assert.Equal(code, error.ErrorCode);
        Assert.Equal("sm:app/db", error.Reference);
        Assert.DoesNotContain("HTTP", error.Message, StringComparison.Ordinal);
        Assert.Contains(code, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_entry_error_without_a_code_says_so()
    {
        var error = AwsErrorMapper.MapEntryError("Secrets Manager", null, null, "sm:app/db");

        Assert.IsType<SecretRequestException>(error);
        Assert.Contains("no error code", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("HTTP", error.Message, StringComparison.Ordinal);
    }
}

using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using SecretsCache.Testing.Operations;
using SecretsCache.Testing.Signing;
using SecretsCache.Testing.Validation;

namespace SecretsCache.Testing.Protocol;

/// <summary>
/// One request, start to end: latency, authentication, operation lookup, injected faults (reset, quota, failure),
/// content type, JSON and model validation, then the operation on the state of the region the request was signed for.
/// Every request is logged, with that region, before it is answered.
/// </summary>
internal sealed class RequestPipeline(
    EmulatorState state,
    RequestAuthenticator authenticator,
    EmulatorFaults faults,
    EmulatorRequestLog log,
    TimeProvider time,
    CancellationToken stopping)
{
    private static readonly string[] AcceptedContentTypes = [Responses.ContentType, "application/x-amz-json-1.0"];

    public async Task HandleAsync(HttpContext context)
    {
        var arrivedAt = time.GetUtcNow();
        var requestId = Guid.NewGuid().ToString();
        var targetHeader = context.Request.Headers["X-Amz-Target"].ToString();
        var target = Target.Parse(targetHeader);

        // The region the credential scope names; authentication decides whether it is served (and the signature genuine).
        var region = AuthorizationHeader.TryParse(context.Request.Headers.Authorization.FirstOrDefault() ?? string.Empty, out _)?.ScopeRegion;
        var latency = faults.LatencyFor(region);
        if (latency > TimeSpan.Zero)
        {
            using var aborted = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping);
            await Task.Delay(latency, time, aborted.Token).ConfigureAwait(false);
        }

        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        var answer = Decide(context, target, body, requestId, region);
        log.Record(new EmulatorRequest(targetHeader, arrivedAt, answer.Outcome, answer.Status, answer.ErrorCode) { Region = region });
        if (answer.Outcome == EmulatorOutcome.ConnectionReset)
        {
            context.Abort();
            return;
        }

        await Responses.WriteAsync(context, answer.Status, answer.Body!, requestId, Now()).ConfigureAwait(false);
    }

    private Answer Decide(HttpContext context, Target? target, byte[] body, string requestId, string? region)
    {
        Answer Fail(EmulatorOutcome outcome, int status, string error, string? message) =>
            new(outcome, status, Responses.ErrorBody(target, error, message), error);

        var signing = ToSigningRequest(context, body);
        if (authenticator.Authenticate(signing, target?.SigningName, Now()) is { } failure)
        {
            return Fail(EmulatorOutcome.AuthFailed, 400, failure.Code, failure.Message);
        }

        // Authentic, so the scope parsed and names a served region.
        var regionState = state.Find(region!)!;

        if (target is null)
        {
            return Fail(EmulatorOutcome.Invalid, 400, "UnknownOperationException", "The X-Amz-Target header must name an operation as secretsmanager.<Operation> or AmazonSSM.<Operation>.");
        }

        if (!target.Model.TryGetOperation(target.Operation, out var input))
        {
            return Fail(EmulatorOutcome.Invalid, 400, "UnknownOperationException", $"{target.Value} is not an operation of {(target.IsSecretsManager ? "Secrets Manager" : "Systems Manager")}.");
        }

        if (faults.TryTakeReset(regionState.Region, target.Value))
        {
            return new Answer(EmulatorOutcome.ConnectionReset, 0, null, null);
        }

        if (!faults.TryAcquireQuota(regionState.Region, target.Value))
        {
            return Fail(EmulatorOutcome.Throttled, 400, "ThrottlingException", "Rate exceeded");
        }

        if (faults.TryTakeFailure(regionState.Region, target.Value) is { } fault)
        {
            var (code, error) = FaultError(target, fault.StatusCode, fault.ErrorCode);
            return Fail(EmulatorOutcome.Fault, code, error, fault.ErrorCode is null ? "An internal error occurred. Try again later." : "Injected by the emulator.");
        }

        var contentType = context.Request.ContentType;
        if (contentType is null || !AcceptedContentTypes.Any(t => contentType.StartsWith(t, StringComparison.OrdinalIgnoreCase)))
        {
            return Fail(EmulatorOutcome.Invalid, 400, "SerializationException", $"The Content-Type must be {Responses.ContentType}.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
        }
        catch (JsonException)
        {
            return Fail(EmulatorOutcome.Invalid, 400, "SerializationException", "The request body is not valid JSON.");
        }

        using (document)
        {
            try
            {
                if (input is not null)
                {
                    RequestValidator.Validate(target.Model, input, document.RootElement);
                }
            }
            catch (AwsErrorException error)
            {
                return Fail(EmulatorOutcome.Invalid, error.StatusCode, error.Code, error.AwsMessage);
            }

            if (OperationTable.Find(target.Value) is not { } handler)
            {
                return Fail(EmulatorOutcome.Invalid, 400, "UnknownOperationException", $"The emulator does not implement {target.Value}.");
            }

            try
            {
                return new Answer(EmulatorOutcome.Ok, 200, Run(handler, new OperationContext(regionState, target.Operation, requestId, document.RootElement)), null);
            }
            catch (AwsErrorException error)
            {
                var outcome = error.Code switch
                {
                    "ResourceNotFoundException" or "ParameterNotFound" or "ParameterVersionNotFound" => EmulatorOutcome.NotFound,
                    "AccessDeniedException" => EmulatorOutcome.AccessDenied,
                    _ => EmulatorOutcome.Error,
                };
                return Fail(outcome, error.StatusCode, error.Code, error.AwsMessage);
            }
#pragma warning disable CA1031 // An emulator defect must still answer AWS-shaped (and be counted), not drop the connection.
            catch (Exception defect)
#pragma warning restore CA1031
            {
                var internalError = target.IsSecretsManager ? "InternalServiceError" : "InternalServerError";
                return Fail(EmulatorOutcome.Error, 500, internalError, $"Emulator defect: {defect.GetType().Name}: {defect.Message}");
            }
        }
    }

    private static byte[] Run(OperationHandler handler, OperationContext context)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, Json.WriterOptions))
        {
            writer.WriteStartObject();
            handler(context, writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>503 is ServiceUnavailable for both services; other 5xx are each service's internal error; an explicit code
    /// answers 500 when the model marks it a server fault, else 400.</summary>
    private static (int Status, string Code) FaultError(Target target, int statusCode, string? errorCode)
    {
        if (errorCode is not null)
        {
            return (target.Model.FindException(errorCode)?.IsFault == true ? 500 : 400, errorCode);
        }

        return statusCode == 503
            ? (503, "ServiceUnavailable")
            : (statusCode, target.IsSecretsManager ? "InternalServiceError" : "InternalServerError");
    }

    /// <summary>The request as it arrived, from the raw target (not the decoded path) and the headers as received.</summary>
    private static SigningRequest ToSigningRequest(HttpContext context, byte[] body)
    {
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "/";
        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, values) in context.Request.Headers)
        {
            foreach (var value in values)
            {
                headers.Add(new(name, value ?? string.Empty));
            }
        }

        return new SigningRequest(context.Request.Method, rawTarget, headers, Hex.Sha256(body));
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        await context.Request.Body.CopyToAsync(buffer, context.RequestAborted).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private DateTimeOffset Now() => time.GetUtcNow() + faults.ClockSkew;

    /// <summary>How a request is answered: outcome, HTTP status (0 for an aborted connection), body, AWS error code.</summary>
    private sealed record Answer(EmulatorOutcome Outcome, int Status, byte[]? Body, string? ErrorCode);
}

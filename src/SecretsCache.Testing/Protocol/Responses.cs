using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using SecretsCache.Testing.Operations;

namespace SecretsCache.Testing.Protocol;

/// <summary>Writes AWS JSON 1.1 responses: the body, <c>Content-Type</c>, <c>x-amzn-RequestId</c> and an RFC 1123 <c>Date</c>.</summary>
internal static class Responses
{
    public const string ContentType = "application/x-amz-json-1.1";

    /// <summary>
    /// <c>{"__type": code, "message": text}</c>. The message member is spelled as the service model's exception shape
    /// spells it ("Message" for Secrets Manager's errors, mostly "message" for Systems Manager's); errors that are not
    /// in the model (authentication, throttling, validation) use "message". A null text writes no message at all.
    /// </summary>
    public static byte[] ErrorBody(Target? target, string code, string? message)
    {
        var member = target?.Model.FindException(code)?.MessageMember
            ?? (target is { IsSecretsManager: true } && code == "AccessDeniedException" ? "Message" : "message");
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, Json.WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("__type", code);
            if (message is not null)
            {
                writer.WriteString(member, message);
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static async Task WriteAsync(HttpContext context, int statusCode, byte[] body, string requestId, DateTimeOffset serverNow)
    {
        var response = context.Response;
        response.StatusCode = statusCode;
        response.Headers["x-amzn-RequestId"] = requestId;
        response.Headers.Date = serverNow.ToString("r", CultureInfo.InvariantCulture);
        response.ContentType = ContentType;
        response.ContentLength = body.Length;
        await response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }
}

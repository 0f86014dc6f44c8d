using System.Text.Json.Serialization;

namespace LambdaFunction.Runtime;

/// <summary>Lambda's error document (<c>application/vnd.aws.lambda.error+json</c>), for init and invocation errors alike.</summary>
public sealed record ErrorReport(string ErrorMessage, string ErrorType, string[] StackTrace)
{
    /// <summary>The report of an exception: its type name, message and stack frames. Messages of the library and of this sample
    /// name references and problems, never values.</summary>
    public static ErrorReport From(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var frames = exception.StackTrace?.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        return new ErrorReport(exception.Message, exception.GetType().Name, frames);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ErrorReport))]
internal sealed partial class RuntimeJson : JsonSerializerContext;

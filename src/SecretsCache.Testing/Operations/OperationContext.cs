using System.Text.Json;
using SecretsCache.Testing.State;

namespace SecretsCache.Testing.Operations;

/// <summary>Everything an operation handler may touch.</summary>
internal sealed class EmulatorState(AwsArns arns, Func<DateTimeOffset> clock)
{
    public AwsArns Arns { get; } = arns;

    public EmulatedSecretStore Secrets { get; } = new(arns, clock);

    public ParameterStore Parameters { get; } = new(arns, clock);

    public AccessRules Access { get; } = new();
}

/// <summary>One request as an operation handler sees it.</summary>
internal sealed record OperationContext(EmulatorState State, string Operation, string RequestId, JsonElement Input);

/// <summary>Handles one operation: reads the validated input, writes the output object's members.</summary>
internal delegate void OperationHandler(OperationContext context, Utf8JsonWriter output);

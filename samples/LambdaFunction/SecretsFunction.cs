using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using SecretsCache;

namespace LambdaFunction;

/// <summary>
/// The function: built and warmed up once per execution environment, during init (before the first <c>/next</c>, where Lambda
/// gives the full CPU and reports Init Duration); invocations then read from memory. Every warm-up reference is required:
/// one that cannot be loaded fails init, which Lambda reports and retries on the next invocation.
/// </summary>
public sealed class SecretsFunction
{
    private readonly ISecretProvider _provider;

    private SecretsFunction(ISecretProvider provider, InitReport init)
    {
        _provider = provider;
        Init = init;
    }

    /// <summary>How init went: references loaded and how long the warm-up took.</summary>
    public InitReport Init { get; }

    /// <summary>Warms <paramref name="provider"/> up with <paramref name="warmUp"/> (batched reads).</summary>
    /// <exception cref="WarmUpFailedException">A reference could not be loaded.</exception>
    public static async Task<SecretsFunction> InitializeAsync(ISecretProvider provider, IReadOnlyList<string> warmUp, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(warmUp);
        var timer = Stopwatch.StartNew();
        var result = warmUp.Count == 0 ? null : await provider.WarmUpAsync(warmUp, cancellationToken).ConfigureAwait(false);
        if (result is { Succeeded: false })
        {
            throw new WarmUpFailedException(result);
        }

        return new SecretsFunction(provider, new InitReport(result?.Loaded ?? 0, timer.Elapsed.TotalMilliseconds));
    }

    /// <summary>Reads <see cref="FunctionRequest.References"/> and answers with their versions and value lengths, never values.</summary>
    public async Task<Stream> HandleAsync(Stream input, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        cancellationToken.ThrowIfCancellationRequested();
        var request = await JsonSerializer.DeserializeAsync(input, FunctionJson.Default.FunctionRequest, cancellationToken).ConfigureAwait(false) ?? new FunctionRequest();
        var timer = Stopwatch.StartNew();
        var results = new Dictionary<string, SecretSummary>(StringComparer.Ordinal);
        foreach (var reference in request.References ?? [])
        {
            var secret = await _provider.GetAsync(reference, cancellationToken).ConfigureAwait(false);
            results[reference] = new SecretSummary(secret.Version, secret.GetBytes().Length);
        }

        var output = new MemoryStream();
        await JsonSerializer.SerializeAsync(output, new FunctionResponse(results, timer.Elapsed.TotalMilliseconds), FunctionJson.Default.FunctionResponse, cancellationToken).ConfigureAwait(false);
        output.Position = 0;
        return output;
    }
}

/// <summary>Init could not load every warm-up reference. The message names them and why (an error code), never a value.</summary>
public sealed class WarmUpFailedException : Exception
{
    public WarmUpFailedException()
    {
    }

    public WarmUpFailedException(string message)
        : base(message)
    {
    }

    public WarmUpFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal WarmUpFailedException(WarmUpResult result)
        : base($"{result.Failures.Count} of {result.Loaded + result.Failures.Count + result.Evicted.Count} warm-up references could not be loaded: " +
            string.Join(", ", result.Failures.Select(f => $"{f.Key} ({(f.Value as SecretsCacheException)?.ErrorCode ?? f.Value.GetType().Name})")) + "." +
            (result.Evicted.Count > 0 ? $" {result.Evicted.Count} did not fit in MaxEntries." : ""))
    {
    }
}

/// <summary>The invocation payload: which references to read.</summary>
public sealed class FunctionRequest
{
    public string[]? References { get; set; }
}

/// <summary>Per reference: its version and length. The function never returns a value.</summary>
public sealed record SecretSummary(string? Version, int Length);

public sealed record FunctionResponse(Dictionary<string, SecretSummary> Secrets, double ElapsedMs);

public sealed record InitReport(int Loaded, double WarmUpMs);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(FunctionRequest))]
[JsonSerializable(typeof(FunctionResponse))]
public sealed partial class FunctionJson : JsonSerializerContext;

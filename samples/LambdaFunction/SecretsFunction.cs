using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using SecretsCache;

namespace LambdaFunction;

/// <summary>
/// A Lambda handler the managed .NET runtime can invoke as <c>bootstrap::LambdaFunction.SecretsFunction::HandleAsync</c> (Stream in,
/// Stream out), and that a custom-runtime (Native AOT) bootstrap loop calls the same way. The provider is built and warmed up
/// once per execution environment, during init, where Lambda gives the full CPU; invocations then read from memory.
/// </summary>
public sealed class SecretsFunction
{
    private static readonly Lazy<Task<Initialized>> Shared = new(static () => InitializeAsync(new SecretProvider(FunctionSettings.Options()), FunctionSettings.WarmUpReferences()));

    private readonly Task<Initialized> _init;

    /// <summary>The runtime's constructor: starts (or joins) the per-environment init.</summary>
    public SecretsFunction()
        : this(Shared.Value)
    {
    }

    /// <summary>For tests and runners: a function over a given provider, warmed up with <paramref name="warmUp"/>.</summary>
    public SecretsFunction(ISecretProvider provider, IReadOnlyList<string> warmUp)
        : this(InitializeAsync(provider, warmUp))
    {
    }

    private SecretsFunction(Task<Initialized> init) => _init = init;

    /// <summary>How init went: references loaded, failures (names only) and how long the warm-up took.</summary>
    public async Task<InitReport> InitReportAsync() => (await _init.ConfigureAwait(false)).Report;

    /// <summary>Reads <see cref="FunctionRequest.References"/> and answers with their versions and value lengths, never values.</summary>
    public async Task<Stream> HandleAsync(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var init = await _init.ConfigureAwait(false);
        var request = await JsonSerializer.DeserializeAsync(input, FunctionJson.Default.FunctionRequest).ConfigureAwait(false) ?? new FunctionRequest();
        var timer = Stopwatch.StartNew();
        var results = new Dictionary<string, SecretSummary>(StringComparer.Ordinal);
        foreach (var reference in request.References ?? [])
        {
            var secret = await init.Provider.GetAsync(reference).ConfigureAwait(false);
            results[reference] = new SecretSummary(secret.Version, secret.GetBytes().Length);
        }

        var output = new MemoryStream();
        await JsonSerializer.SerializeAsync(output, new FunctionResponse(results, timer.Elapsed.TotalMilliseconds), FunctionJson.Default.FunctionResponse).ConfigureAwait(false);
        output.Position = 0;
        return output;
    }

    private static async Task<Initialized> InitializeAsync(ISecretProvider provider, IReadOnlyList<string> warmUp)
    {
        var timer = Stopwatch.StartNew();
        var result = warmUp.Count == 0 ? null : await provider.WarmUpAsync(warmUp).ConfigureAwait(false);
        var failures = result?.Failures.Select(f => $"{f.Key} ({(f.Value as SecretsCacheException)?.ErrorCode ?? f.Value.GetType().Name})").ToArray() ?? [];
        return new Initialized(provider, new InitReport(result?.Loaded ?? 0, failures, timer.Elapsed.TotalMilliseconds));
    }

    private sealed record Initialized(ISecretProvider Provider, InitReport Report);
}

/// <summary>The invocation payload: which references to read.</summary>
public sealed class FunctionRequest
{
    public string[]? References { get; set; }
}

/// <summary>Per reference: its version and length. The function never returns a value.</summary>
public sealed record SecretSummary(string? Version, int Length);

public sealed record FunctionResponse(Dictionary<string, SecretSummary> Secrets, double ElapsedMs);

public sealed record InitReport(int Loaded, string[] Failures, double WarmUpMs);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(FunctionRequest))]
[JsonSerializable(typeof(FunctionResponse))]
[JsonSerializable(typeof(InitReport))]
public sealed partial class FunctionJson : JsonSerializerContext;

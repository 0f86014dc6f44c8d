using LambdaFunction.Runtime;
using SecretsCache;

namespace LambdaFunction;

/// <summary>The bootstrap's whole life: init (the provider, from the environment, warmed up), then the runtime loop.</summary>
public static class Bootstrap
{
    /// <summary>Runs against the Runtime API at <paramref name="runtimeApi"/> (<c>host:port</c>) until it ends the environment; returns the exit code.</summary>
    public static Task<int> RunAsync(string runtimeApi, TextWriter log, CancellationToken cancellationToken = default) =>
        RunAsync(runtimeApi, log, registerAfterRestore: null, cancellationToken);

    /// <summary>
    /// As <see cref="RunAsync(string, TextWriter, CancellationToken)"/>; init hands the provider's snapshot-restore hook to
    /// <paramref name="registerAfterRestore"/>. With Amazon.Lambda.Core (a managed runtime with SnapStart) that is
    /// <c>Amazon.Lambda.Core.SnapshotRestore.RegisterAfterRestore</c>; this custom runtime has no restore of its own, so
    /// the delegate is how the sample stays ready for one (docs/lambda.md).
    /// </summary>
    public static async Task<int> RunAsync(string runtimeApi, TextWriter log, Action<Func<ValueTask>>? registerAfterRestore, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(log);
        using var api = new RuntimeApiClient(runtimeApi);
        SecretProvider? provider = null;
        try
        {
            return await LambdaRuntime.RunAsync(api, InitializeAsync, log, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            provider?.Dispose();
        }

        async Task<InvocationHandler> InitializeAsync(CancellationToken token)
        {
            provider = new SecretProvider(FunctionSettings.Options());
            var restored = provider;
            registerAfterRestore?.Invoke(() =>
            {
                restored.OnSnapshotRestored(); // new jitter and bucket phases, init's values fetched again on first read, credentials resolved again
                return ValueTask.CompletedTask;
            });
            var function = await SecretsFunction.InitializeAsync(provider, FunctionSettings.WarmUpReferences(), token).ConfigureAwait(false);
            await log.WriteLineAsync($"init: warmed up {function.Init.Loaded} reference(s) in {function.Init.WarmUpMs:F1} ms").ConfigureAwait(false);
            return (invocation, invocationToken) => function.HandleAsync(invocation.OpenPayload(), invocationToken);
        }
    }
}

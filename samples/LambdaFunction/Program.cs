// The function's bootstrap: a Lambda custom runtime (provided.al2023). It runs where Lambda sets AWS_LAMBDA_RUNTIME_API;
// samples/LambdaFunction/LocalRunner runs it locally against a Runtime API stand-in and the loopback emulator.
// Init (provider + warm-up of SECRETSCACHE_WARMUP) happens before the first /next; see FunctionSettings for the variables.
using LambdaFunction;
using LambdaFunction.Runtime;

if (Environment.GetEnvironmentVariable(RuntimeApiClient.EnvironmentVariable) is not { Length: > 0 } runtimeApi)
{
    Console.Error.WriteLine($"{RuntimeApiClient.EnvironmentVariable} is not set: this is a Lambda bootstrap. Run samples/LambdaFunction/LocalRunner to try it locally.");
    return 2;
}

// A custom runtime has no snapshot restore. On a managed runtime with SnapStart and Amazon.Lambda.Core, pass its hook
// registration instead: Bootstrap.RunAsync(runtimeApi, Console.Out, Amazon.Lambda.Core.SnapshotRestore.RegisterAfterRestore).
return await Bootstrap.RunAsync(runtimeApi, Console.Out, registerAfterRestore: null);

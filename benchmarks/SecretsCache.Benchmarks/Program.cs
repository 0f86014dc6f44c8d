using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/SecretsCache.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

using BenchmarkDotNet.Running;
using SecretsCache.Benchmarks;

// BenchmarkDotNet suites:   dotnet run -c Release --project benchmarks/SecretsCache.Benchmarks -- --filter '*'
// Memory per entry:         dotnet run -c Release --project benchmarks/SecretsCache.Benchmarks -- --memory
// Worst insert, eviction:   dotnet run -c Release --project benchmarks/SecretsCache.Benchmarks -- --eviction
// 1,000 cold callers:       dotnet run -c Release --project benchmarks/SecretsCache.Benchmarks -- --stampede
// Size sweep, interleaved, a hit piece by piece: dotnet run -c Release --project benchmarks/SecretsCache.Benchmarks -- --sweep
// Miss beside bare POSTs:   dotnet run -c Release --project benchmarks/SecretsCache.Benchmarks -- --miss [--rounds 10] [--requests 300]
switch (args.FirstOrDefault())
{
    case "--sweep":
        HitBreakdown.Run();
        break;
    case "--memory":
        MemoryPerEntry.Run([10_000, 100_000]);
        break;
    case "--eviction":
        WorstInsert.Run();
        break;
    case "--miss":
        await MissRunner.RunAsync(args);
        break;
    case "--emulator-child":
        await MissRunner.ServeAsync();
        break;
    case "--stampede":
        await Stampede.RunAsync();
        break;
    default:
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        break;
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace SecretsCache.IntegrationTests.Provider.Support;

/// <summary>Microsoft's <see cref="FakeLoggerProvider"/> as the tests here use it: every level, each record as one searchable line.</summary>
internal static class FakeLogs
{
    /// <summary>A logger factory at every level whose records all land in <paramref name="logs"/>.</summary>
    public static ILoggerFactory Factory(FakeLoggerProvider logs) =>
        LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(logs));

    extension(FakeLoggerProvider logs)
    {
        /// <summary>Each record as "Level: message exception", so a test can search them for values.</summary>
        public IReadOnlyList<string> Entries => [.. logs.Collector.GetSnapshot().Select(r => $"{r.Level}: {r.Message} {r.Exception}")];
    }
}

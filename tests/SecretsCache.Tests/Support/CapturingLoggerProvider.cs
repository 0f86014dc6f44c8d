using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace SecretsCache.Tests.Support;

/// <summary>One captured log call: the rendered message, its structured arguments and the exception.</summary>
internal sealed record LogRecord(LogLevel Level, EventId EventId, string Message, IReadOnlyList<KeyValuePair<string, object?>> State, Exception? Exception);

/// <summary>Captures every log call at every level, to check that no message, argument or exception carries a secret value.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogRecord> _records = new();

    public IReadOnlyList<LogRecord> Records => [.. _records];

    public static ILoggerFactory CreateFactory(CapturingLoggerProvider provider) =>
        LoggerFactory.Create(builder => builder.SetMinimumLevel(LogLevel.Trace).AddProvider(provider));

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var pairs = state as IEnumerable<KeyValuePair<string, object?>> ?? [];
            owner._records.Enqueue(new LogRecord(logLevel, eventId, formatter(state, exception), [.. pairs], exception));
        }
    }
}

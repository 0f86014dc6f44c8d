using Microsoft.Extensions.Logging.Testing;

namespace SecretsCache.IntegrationTests.Provider.Support;

/// <summary>Asserts that a secret value shows up nowhere it must not: exception messages and ToString (inner ones included), logs.</summary>
internal static class NoValueLeaks
{
    public static void InException(Exception error, params string[] values)
    {
        for (var current = error; current is not null; current = current.InnerException)
        {
            foreach (var value in values)
            {
                Assert.DoesNotContain(value, current.Message, StringComparison.Ordinal);
            }
        }

        var text = error.ToString();
        foreach (var value in values)
        {
            Assert.DoesNotContain(value, text, StringComparison.Ordinal);
        }
    }

    public static void InLogs(FakeLoggerProvider logs, params string[] values)
    {
        Assert.NotEmpty(logs.Entries);
        foreach (var entry in logs.Entries)
        {
            foreach (var value in values)
            {
                Assert.DoesNotContain(value, entry, StringComparison.Ordinal);
            }
        }
    }
}

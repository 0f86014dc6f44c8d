namespace Docs;

// The few types the documentation's snippets name but leave to the reader, declared once for every document.

/// <summary>An options class bound from configuration in docs/hosting.md and the README.</summary>
public sealed class DbSettings
{
    public string? Username { get; set; }

    public string? Password { get; set; }
}

/// <summary>The reader's own API client exception, in docs/rotation.md's custom predicate.</summary>
public sealed class MyApiException(string code) : Exception(code)
{
    public string Code { get; } = code;
}

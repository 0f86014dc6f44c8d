namespace AspNetApp;

/// <summary>Bound from the <c>Db</c> keys the demo/db secret is flattened into.</summary>
public sealed class DbSettings
{
    public string Username { get; set; } = "";

    public string Password { get; set; } = "";

    public List<string> Hosts { get; set; } = [];
}

/// <summary>What /db shows: never the password itself.</summary>
public sealed record DbView(string Username, List<string> Hosts, bool HasPassword);

public sealed record VersionsView(string? Default, string? Eu, bool SameProvider);

public sealed record HealthEntryView(string Status, string? Description);

public sealed record HealthView(string Status, Dictionary<string, HealthEntryView> Checks);

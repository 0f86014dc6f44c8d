// SecretsCache in ASP.NET Core: DI registration, a configuration provider that follows rotation, a named provider, a health check.
//   dotnet run --project samples/AspNetApp      # no AWS credentials: an in-process emulator with demo data
//   curl localhost:5000/db  /parameters  /versions  /health
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using AspNetApp;
using SecretsCache;
using SecretsCache.Testing;

var builder = WebApplication.CreateBuilder(args);

AwsEmulator? emulator = null;
if (DemoAws.UseEmulator(builder.Configuration))
{
    emulator = await DemoAws.StartEmulatorAsync();
    // A factory registration is disposed with the container; tests also resolve it to rotate secrets and inject faults.
    builder.Services.AddSingleton(_ => emulator);
}

var useAws = DemoAws.Configure(emulator);
var dbSecret = builder.Configuration["Demo:DbSecret"] ?? "demo/db";

// 1. Configuration: the JSON secret under "Db" (Db:Username, Db:Hosts:0...), the path /demo/prod/ under "App"
//    (/demo/prod/Db/Port -> App:Db:Port), reloaded when a value changes.
builder.Configuration.AddSecretsCache(source =>
{
    source.AddSecret(dbSecret, key: "Db")
          .AddSecret("demo/optional-flag", key: "OptionalFlag", optional: true)
          .AddParameterPath(builder.Configuration["Demo:ParameterPath"] ?? "/demo/prod/", prefix: "App");
    source.ReloadInterval = builder.Configuration.GetValue("Demo:ReloadInterval", TimeSpan.FromMinutes(1));
    source.ConfigureProvider = useAws;
});
builder.Services.Configure<DbSettings>(builder.Configuration.GetSection("Db"));

// 2. The provider for code that reads secrets directly, plus a named one (another region or account) as a keyed service.
builder.Services.AddSecretsCache(useAws);
builder.Services.AddSecretsCache("eu", useAws);

// 3. Health: unhealthy when demo/db cannot be read, degraded while values are served stale.
builder.Services.AddHealthChecks().AddSecretsCache([dbSecret]);

var app = builder.Build();

app.MapGet("/db", (IOptionsMonitor<DbSettings> db) =>
    new DbView(db.CurrentValue.Username, db.CurrentValue.Hosts, db.CurrentValue.Password.Length > 0));

app.MapGet("/parameters", (IConfiguration configuration) =>
    configuration.GetSection("App").AsEnumerable(makePathsRelative: true).Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value));

app.MapGet("/api-key-length", async (ISecretProvider secrets, CancellationToken ct) =>
    (await secrets.GetStringAsync("demo/api-key", ct)).Length);

app.MapGet("/versions", async (ISecretProvider secrets, [FromKeyedServices("eu")] ISecretProvider eu, CancellationToken ct) =>
    new VersionsView((await secrets.GetAsync(dbSecret, ct)).VersionId, (await eu.GetAsync(dbSecret, ct)).VersionId, ReferenceEquals(secrets, eu)));

app.MapHealthChecks("/health", new HealthCheckOptions
{
    ResponseWriter = static (context, report) =>
    {
        context.Response.ContentType = "application/json";
        var entries = report.Entries.ToDictionary(e => e.Key, e => new HealthEntryView(e.Value.Status.ToString(), e.Value.Description));
        return context.Response.WriteAsync(JsonSerializer.Serialize(new HealthView(report.Status.ToString(), entries)));
    },
});

await app.RunAsync();

/// <summary>Lets WebApplicationFactory find the entry point.</summary>
public partial class Program;

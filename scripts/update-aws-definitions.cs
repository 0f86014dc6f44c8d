#:property GenerateDocumentationFile=true
#:property NoWarn=CS1591
// Regenerates the repository's trimmed copy of AWS's own definitions from ../shared (the botocore models and the SigV4 test
// suite), so that a clone builds and tests with nothing beside it.
//   dotnet run scripts/update-aws-definitions.cs            rewrite the copy
//   dotnet run scripts/update-aws-definitions.cs -- --check exit 1 if the copy differs from what ../shared would give
// What is kept: operations, shapes, members, types, lengths, patterns, error codes, retry rules, endpoint rules, paginators.
// What is dropped: documentation text (most of the bytes) and the example requests, which neither the build nor a test reads.
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

var check = args.Contains("--check");
var repo = Path.GetFullPath(Path.Combine(AppContext.GetData("EntryPointFileDirectoryPath") as string ?? Directory.GetCurrentDirectory(), ".."));
var shared = Path.GetFullPath(Path.Combine(repo, "..", "shared"));
if (!Directory.Exists(Path.Combine(shared, "aws-models")))
{
    Console.Error.WriteLine($"No {shared}/aws-models: nothing to regenerate from.");
    return check ? 0 : 1;
}

var models = Path.Combine(repo, "src", "SecretsCache.Testing", "AwsModels");
var vectors = Path.Combine(repo, "tests", "Shared", "sigv4-testsuite");
var expected = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);

foreach (var relative in new[]
{
    "secretsmanager/service-2.json", "secretsmanager/endpoint-rule-set-1.json", "secretsmanager/paginators-1.json",
    "ssm/service-2.json", "ssm/endpoint-rule-set-1.json", "ssm/paginators-1.json",
    "common/_retry.json", "common/sdk-default-configuration.json",
})
{
    var node = JsonNode.Parse(File.ReadAllText(Path.Combine(shared, "aws-models", relative)))!;
    Strip(node);
    var json = node.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";
    expected[Path.Combine(models, relative)] = Encoding.UTF8.GetBytes(json);
}

foreach (var file in new[] { "LICENSE.txt", "NOTICE" })
{
    expected[Path.Combine(models, file)] = File.ReadAllBytes(Path.Combine(shared, "aws-models", file));
}

var suite = Path.Combine(shared, "sigv4-testsuite");
foreach (var file in Directory.EnumerateFiles(suite, "*", SearchOption.AllDirectories))
{
    expected[Path.Combine(vectors, Path.GetRelativePath(suite, file))] = File.ReadAllBytes(file);
}

var differences = 0;
foreach (var root in new[] { models, vectors })
{
    if (!Directory.Exists(root))
    {
        continue;
    }

    foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
    {
        if (!expected.ContainsKey(file) && Path.GetFileName(file) != "README.md")
        {
            differences++;
            Console.WriteLine($"extra: {Path.GetRelativePath(repo, file)}");
            if (!check)
            {
                File.Delete(file);
            }
        }
    }
}

foreach (var (path, bytes) in expected)
{
    if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
    {
        continue;
    }

    differences++;
    Console.WriteLine($"{(check ? "differs" : "wrote")}: {Path.GetRelativePath(repo, path)}");
    if (!check)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }
}

Console.WriteLine(differences == 0 ? "AWS definitions are up to date." : $"{differences} file(s) {(check ? "out of date" : "updated")}.");
return check && differences > 0 ? 1 : 0;

static void Strip(JsonNode? node)
{
    switch (node)
    {
        case JsonObject obj:
            foreach (var key in obj.Select(p => p.Key).Where(k => k is "documentation" or "documentationUrl").ToList())
            {
                obj.Remove(key);
            }

            foreach (var (_, child) in obj)
            {
                Strip(child);
            }

            break;
        case JsonArray array:
            foreach (var child in array)
            {
                Strip(child);
            }

            break;
    }
}

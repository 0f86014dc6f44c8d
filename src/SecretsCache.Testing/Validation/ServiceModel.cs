using System.Text.Json;

namespace SecretsCache.Testing.Validation;

/// <summary>The parts of an AWS service model (botocore service-2.json) the emulator validates against.</summary>
internal sealed class ServiceModel
{
    private static readonly Lazy<ServiceModel> SecretsManagerModel = new(() => Load("secretsmanager"));
    private static readonly Lazy<ServiceModel> SsmModel = new(() => Load("ssm"));

    private readonly Dictionary<string, string?> _operationInputs;
    private readonly Dictionary<string, Shape> _shapes;

    private ServiceModel(string targetPrefix, Dictionary<string, string?> operationInputs, Dictionary<string, Shape> shapes)
    {
        TargetPrefix = targetPrefix;
        _operationInputs = operationInputs;
        _shapes = shapes;
    }

    /// <summary>The Secrets Manager model, parsed on first use.</summary>
    public static ServiceModel SecretsManager => SecretsManagerModel.Value;

    /// <summary>The Systems Manager model, parsed on first use.</summary>
    public static ServiceModel Ssm => SsmModel.Value;

    public string TargetPrefix { get; }

    /// <summary>Whether the model defines the operation; <paramref name="input"/> is null for operations without input.</summary>
    public bool TryGetOperation(string operation, out Shape? input)
    {
        input = null;
        if (!_operationInputs.TryGetValue(operation, out var inputName))
        {
            return false;
        }

        if (inputName is not null)
        {
            input = _shapes[inputName];
        }

        return true;
    }

    public Shape GetShape(string name) => _shapes[name];

    /// <summary>The exception shape of an error code, when the model declares one.</summary>
    public Shape? FindException(string code) =>
        _shapes.TryGetValue(code, out var shape) && shape.IsException ? shape : null;

    private static ServiceModel Load(string service)
    {
        var resource = $"SecretsCache.Testing.Models.{service}.json";
        using var stream = typeof(ServiceModel).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"The embedded AWS model '{resource}' is missing from the assembly.");
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;

        var targetPrefix = root.GetProperty("metadata").GetProperty("targetPrefix").GetString()!;
        var operations = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var operation in root.GetProperty("operations").EnumerateObject())
        {
            operations[operation.Name] = operation.Value.TryGetProperty("input", out var input)
                ? input.GetProperty("shape").GetString()
                : null;
        }

        var shapes = new Dictionary<string, Shape>(StringComparer.Ordinal);
        foreach (var shape in root.GetProperty("shapes").EnumerateObject())
        {
            shapes[shape.Name] = Shape.Parse(shape.Name, shape.Value);
        }

        return new ServiceModel(targetPrefix, operations, shapes);
    }
}

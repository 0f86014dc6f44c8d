using System.Globalization;
using System.Text;
using System.Text.Json;
using Amazon.Runtime.Internal.Endpoints.StandardLibrary;

namespace SecretsCache.Tests.Aws.Endpoints;

/// <summary>What a rule set decided: a URL or an error, the leaf rule that decided it, and any auth-scheme overrides.</summary>
internal sealed record RuleSetOutcome(string Leaf, string? Url, string? Error, string? SigningRegion, string? SigningName);

/// <summary>
/// A small, generic interpreter of the AWS endpoint rules language, enough for the functions the
/// Secrets Manager and SSM rule sets use. Anything else (an unknown function, endpoint headers) throws
/// <see cref="NotSupportedException"/>, so a rule-set update that needs more fails the tests instead of passing quietly.
/// </summary>
internal sealed class EndpointRuleSet
{
    private readonly JsonElement _root;
    private readonly Func<string, Partition?> _partitionFor;

    private EndpointRuleSet(JsonElement root, Func<string, Partition?> partitionFor)
    {
        _root = root;
        _partitionFor = partitionFor;
    }

    /// <summary>Loads <c>&lt;service&gt;/endpoint-rule-set-1.json</c>; <c>aws.partition</c> answers with <paramref name="partitionFor"/>.</summary>
    public static EndpointRuleSet Load(string service, Func<string, Partition?>? partitionFor = null)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(AwsModels.RuleSetPath(service)));
        return new EndpointRuleSet(document.RootElement.Clone(), partitionFor ?? Fn.Partition);
    }

    /// <summary>Every endpoint and error rule, by its path in the file.</summary>
    public IReadOnlyCollection<string> Leaves
    {
        get
        {
            var leaves = new List<string>();
            CollectLeaves(_root.GetProperty("rules"), "rules", leaves);
            return leaves;
        }
    }

    /// <summary>Evaluates the rules. Parameters are bound through their <c>builtIn</c> names, as an SDK binds them.</summary>
    public RuleSetOutcome Evaluate(IReadOnlyDictionary<string, object?> builtIns)
    {
        var scope = new Dictionary<string, object?>(StringComparer.Ordinal);
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var parameter in _root.GetProperty("parameters").EnumerateObject())
        {
            object? value = null;
            if (parameter.Value.TryGetProperty("builtIn", out var builtIn))
            {
                known.Add(builtIn.GetString()!);
                value = builtIns.GetValueOrDefault(builtIn.GetString()!);
            }

            if (value is null && parameter.Value.TryGetProperty("default", out var defaultValue))
            {
                value = Literal(defaultValue);
            }

            if (value is null && parameter.Value.TryGetProperty("required", out var required) && required.GetBoolean())
            {
                throw new InvalidOperationException($"Required parameter {parameter.Name} has no value.");
            }

            scope[parameter.Name] = value;
        }

        foreach (var name in builtIns.Keys.Where(name => !known.Contains(name)))
        {
            throw new InvalidOperationException($"The rule set has no parameter bound to built-in {name}.");
        }

        return EvaluateRules(_root.GetProperty("rules"), "rules", scope)
            ?? throw new InvalidOperationException("No rule matched.");
    }

    private RuleSetOutcome? EvaluateRules(JsonElement rules, string path, Dictionary<string, object?> outer)
    {
        var index = 0;
        foreach (var rule in rules.EnumerateArray())
        {
            var rulePath = $"{path}[{index++}]";
            var scope = new Dictionary<string, object?>(outer, StringComparer.Ordinal);
            if (!rule.GetProperty("conditions").EnumerateArray().All(condition => Holds(condition, scope)))
            {
                continue;
            }

            switch (rule.GetProperty("type").GetString())
            {
                case "endpoint":
                    return Endpoint(rule.GetProperty("endpoint"), rulePath, scope);
                case "error":
                    return new RuleSetOutcome(rulePath, null, Interpolate(rule.GetProperty("error").GetString()!, scope), null, null);
                case "tree":
                    // A tree whose conditions hold must decide; falling out of it is an error in the rules language.
                    return EvaluateRules(rule.GetProperty("rules"), rulePath + ".rules", scope)
                        ?? throw new InvalidOperationException($"Tree rule {rulePath} matched but none of its rules did.");
                default:
                    throw new NotSupportedException($"Rule type {rule.GetProperty("type")} at {rulePath}.");
            }
        }

        return null;
    }

    private RuleSetOutcome Endpoint(JsonElement endpoint, string path, Dictionary<string, object?> scope)
    {
        if (endpoint.TryGetProperty("headers", out var headers) && headers.EnumerateObject().Any())
        {
            throw new NotSupportedException($"Endpoint headers at {path}.");
        }

        string? signingRegion = null, signingName = null;
        if (endpoint.TryGetProperty("properties", out var properties) && properties.TryGetProperty("authSchemes", out var schemes))
        {
            foreach (var scheme in schemes.EnumerateArray())
            {
                signingRegion ??= scheme.TryGetProperty("signingRegion", out var r) ? (string?)Evaluate(r, scope) : null;
                signingName ??= scheme.TryGetProperty("signingName", out var n) ? (string?)Evaluate(n, scope) : null;
            }
        }

        var url = (string?)Evaluate(endpoint.GetProperty("url"), scope);
        return new RuleSetOutcome(path, url, null, signingRegion, signingName);
    }

    // A condition holds when its function returns true or, for non-booleans, anything set; "assign" binds the result.
    private bool Holds(JsonElement condition, Dictionary<string, object?> scope)
    {
        var value = Evaluate(condition, scope);
        if (condition.TryGetProperty("assign", out var assign) && value is not null)
        {
            scope[assign.GetString()!] = value;
        }

        return value is bool b ? b : value is not null;
    }

    private object? Evaluate(JsonElement expression, Dictionary<string, object?> scope)
    {
        if (expression.ValueKind == JsonValueKind.String)
        {
            return Interpolate(expression.GetString()!, scope);
        }

        if (expression.ValueKind != JsonValueKind.Object)
        {
            return Literal(expression);
        }

        if (expression.TryGetProperty("ref", out var reference))
        {
            return scope.GetValueOrDefault(reference.GetString()!);
        }

        var fn = expression.GetProperty("fn").GetString();
        var args = expression.GetProperty("argv").EnumerateArray().Select(arg => Evaluate(arg, scope)).ToArray();
        return fn switch
        {
            "isSet" => args[0] is not null,
            "booleanEquals" => (bool)args[0]! == (bool)args[1]!,
            "stringEquals" => string.Equals((string)args[0]!, (string)args[1]!, StringComparison.Ordinal),
            "aws.partition" => _partitionFor((string)args[0]!),
            "getAttr" => GetAttr(args[0], (string)args[1]!),
            _ => throw new NotSupportedException($"Function {fn}."),
        };
    }

    private static object? Literal(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        JsonValueKind.Number => value.GetInt32(),
        JsonValueKind.String => value.GetString(),
        _ => throw new NotSupportedException($"Literal {value.ValueKind}."),
    };

    // Paths are dot-separated names with optional [index]; a partition is read through AWSSDK.Core's own indexer.
    private static object? GetAttr(object? target, string path)
    {
        foreach (var part in path.Split('.'))
        {
            var bracket = part.IndexOf('[', StringComparison.Ordinal);
            var name = bracket < 0 ? part : part[..bracket];
            if (name.Length > 0)
            {
                target = target switch
                {
                    Partition partition => partition[name],
                    IReadOnlyDictionary<string, object?> map => map.GetValueOrDefault(name),
                    _ => throw new NotSupportedException($"getAttr {name} on {target?.GetType().Name ?? "null"}."),
                };
            }

            if (bracket >= 0)
            {
                var i = int.Parse(part[(bracket + 1)..^1], CultureInfo.InvariantCulture);
                target = target is IReadOnlyList<object?> list && i < list.Count ? list[i] : null;
            }
        }

        return target;
    }

    // "{Name}" and "{Name#path}" templates; "{{" and "}}" are literal braces.
    private static string Interpolate(string template, Dictionary<string, object?> scope)
    {
        var text = new StringBuilder();
        for (var i = 0; i < template.Length; i++)
        {
            var c = template[i];
            if ((c == '{' || c == '}') && i + 1 < template.Length && template[i + 1] == c)
            {
                text.Append(c);
                i++;
            }
            else if (c == '{')
            {
                var end = template.IndexOf('}', i);
                var inner = template[(i + 1)..end];
                var hash = inner.IndexOf('#', StringComparison.Ordinal);
                var value = hash < 0 ? scope[inner] : GetAttr(scope[inner[..hash]], inner[(hash + 1)..]);
                text.Append(value as string ?? throw new InvalidOperationException($"Template {{{inner}}} is not a string."));
                i = end;
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    private static void CollectLeaves(JsonElement rules, string path, List<string> leaves)
    {
        var index = 0;
        foreach (var rule in rules.EnumerateArray())
        {
            var rulePath = $"{path}[{index++}]";
            if (rule.GetProperty("type").GetString() == "tree")
            {
                CollectLeaves(rule.GetProperty("rules"), rulePath + ".rules", leaves);
            }
            else
            {
                leaves.Add(rulePath);
            }
        }
    }
}

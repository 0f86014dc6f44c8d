namespace SecretsCache.Aws.Contracts;

// Wire shapes of the Parameter Store operations this library calls, named as in the SSM service model.

internal sealed class GetParameterRequest
{
    public required string Name { get; init; }

    public bool WithDecryption { get; init; }
}

internal sealed class GetParameterResult
{
    public Parameter? Parameter { get; init; }
}

internal sealed class GetParametersRequest
{
    public required List<string> Names { get; init; }

    public bool WithDecryption { get; init; }
}

internal sealed class GetParametersResult
{
    public List<Parameter>? Parameters { get; init; }

    public List<string>? InvalidParameters { get; init; }
}

internal sealed class GetParametersByPathRequest
{
    public required string Path { get; init; }

    public bool Recursive { get; init; }

    public bool WithDecryption { get; init; }

    public int? MaxResults { get; init; }

    public string? NextToken { get; init; }
}

internal sealed class GetParametersByPathResult
{
    public List<Parameter>? Parameters { get; init; }

    public string? NextToken { get; init; }
}

internal sealed class Parameter
{
    public string? Name { get; init; }

    public string? Type { get; init; }

    public string? Value { get; init; }

    public long Version { get; init; }

    public string? Selector { get; init; }

    public string? SourceResult { get; init; }

    public string? ARN { get; init; }

    public double? LastModifiedDate { get; init; }
}

using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Polly;
using SecretsCache.Aws.Contracts;
using SecretsCache.Composition;
using SecretsCache.Aws.Endpoints;
using SecretsCache.Aws.Identity;
using SecretsCache.Aws.Signing;
using SecretsCache.Diagnostics;
using SecretsCache.Resilience;

namespace SecretsCache.Aws.Protocol;

/// <summary>
/// One AWS JSON 1.1 call: <c>POST /</c> with <c>X-Amz-Target</c>, signed with SigV4, through the call policy's pipeline
/// (retry budget, retries, a rate-limit token per attempt, breaker). Every attempt builds and signs a fresh request (a request message cannot be sent twice, and X-Amz-Date must be new).
/// </summary>
internal sealed partial class AwsJsonClient : IDisposable
{
    private const string BatchOperation = "BatchGetSecretValue";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly AwsSettings _options;
    private readonly TimeProvider _time;
    private readonly Func<string, string?> _environment;
    private readonly AwsCredentialsSource _credentials;
    private readonly CallPolicy _policy;
    private readonly ConcurrentDictionary<(AwsService, string), ResolvedEndpoint> _endpoints = new();
    private readonly long[] _clockSkewTicks = new long[2];
    private string? _defaultRegion;

    public AwsJsonClient(SecretsCacheOptions options, HttpClient? httpClient, TimeProvider timeProvider, Func<string, string?>? environment = null, ILogger? logger = null)
        : this(SecretsCacheSettings.From(options), httpClient, timeProvider, environment, logger)
    {
    }

    public AwsJsonClient(
        SecretsCacheSettings options,
        HttpClient? httpClient,
        TimeProvider timeProvider,
        Func<string, string?>? environment = null,
        ILogger? logger = null,
        Func<CallBudget, ICallLimiter, ICallLimiter>? replaceLimiter = null,
        Random? random = null,
        Func<ValueTask<AWSCredentials>>? defaultCredentials = null)
    {
        _options = options.Aws;
        _time = timeProvider;
        _environment = environment ?? Environment.GetEnvironmentVariable;

        // A custom endpoint that is not allowed (plain http:// to a non-loopback host, user info, a query) is a deployment
        // error: refuse it here, as SecretProvider's constructor documents, rather than on every read. Done before the
        // HttpClient is made so nothing is left undisposed.
        foreach (var service in (ReadOnlySpan<AwsService>)[AwsService.SecretsManager, AwsService.ParameterStore])
        {
            _ = CustomEndpoint.Find(service, ConfiguredUrl(service), _environment);
        }

        _http = httpClient ?? CreateDefaultHttpClient();
        _ownsHttp = httpClient is null;
        _credentials = new AwsCredentialsSource(options.Aws.Credentials, options.Aws.Profile, options.Aws.ProfilesLocation, defaultCredentials, _environment);
        var breakDuration = options.Retry.BreakDuration;
        _health = new ServiceHealth(timeProvider, breakDuration > TimeSpan.Zero ? breakDuration : Defaults.BreakDuration);
        _policy = new CallPolicy(options, timeProvider, logger ?? NullLogger.Instance, replaceLimiter, random, _health.BreakerOpened);
    }

    /// <summary>The region used for references that do not name one.</summary>
    /// <remarks>Only a success is cached, so a region configured after a failed lookup (a profile written later) is still found.</remarks>
    public string DefaultRegion => _defaultRegion ??= ResolveDefaultRegion();

    /// <summary>After a snapshot restore: credentials are resolved again and the token buckets restart at fresh phases.</summary>
    public void OnSnapshotRestored()
    {
        _credentials.ResolveAgain();
        _policy.RestartPhases();
    }

    /// <summary>The rate limits, breakers and batching decision around this client's calls.</summary>
    public CallPolicy Policy => _policy;

    /// <summary>The signing-clock correction learned from AWS's Date header after a skew rejection (for diagnostics and tests).</summary>
    public TimeSpan ClockSkew(AwsService service) => TimeSpan.FromTicks(Interlocked.Read(ref _clockSkewTicks[(int)service]));

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<TResponse> SendAsync<TRequest, TResponse>(
        AwsService service,
        string? region,
        string operation,
        TRequest request,
        JsonTypeInfo<TRequest> requestType,
        JsonTypeInfo<TResponse> responseType,
        string? reference,
        CancellationToken cancellationToken,
        bool failsOver = false)
    {
        var call = new Call<TResponse>(
            service,
            Endpoint(service, region ?? DefaultRegion),
            Target(service, operation),
            JsonSerializer.SerializeToUtf8Bytes(request, requestType),
            responseType,
            reference,
            service == AwsService.ParameterStore ? CallBudget.ParameterStore : operation == BatchOperation ? CallBudget.SecretsManagerBatch : CallBudget.SecretsManager);
        var pipeline = _policy.Pipeline(service, call.Endpoint.SigningRegion);
        try
        {
            // Every attempt takes a token in the pipeline's rate-limit stage; FetchTimeout (the caller's token) bounds it all.
            return await pipeline.ExecuteAsync(
                static (context, state) => state.Client.RecordedAttemptAsync(state.Call, context),
                (Client: this, Call: call),
                _policy.Limiter(call.Budget, call.Endpoint.SigningRegion),
                call.Reference,
                cancellationToken,
                failsOver).ConfigureAwait(false);
        }
        catch (Exception ex) when (RetryPipelineFactory.IsBudgetExhausted(ex))
        {
            throw new SecretServiceUnavailableException(
                $"AWS {ServiceName(service)} did not answer {operation} for {reference ?? "the request"} within the retry budget of {_policy.RetryFor(service).TotalTimeout.TotalSeconds:0.###} s (Retry.TotalTimeout, or Retry.{ServiceOption(service)}.TotalTimeout; raise it to allow more retries).", reference, TimeoutCodes.RetryBudgetExhausted, ex);
        }
        catch (Exception ex) when (RetryPipelineFactory.IsBreakerOpen(ex))
        {
            throw CircuitOpen(call, operation, ex);
        }
    }

    private SecretServiceUnavailableException CircuitOpen<TResponse>(Call<TResponse> call, string operation, Exception inner) => new(
        $"AWS {ServiceName(call.Service)} in {call.Endpoint.SigningRegion} failed most recent calls, so {operation} for {call.Reference ?? "the request"} was not sent; calls resume within {_policy.RetryFor(call.Service).BreakDuration.TotalSeconds:0.###} s (Retry.BreakDuration, or Retry.{ServiceOption(call.Service)}.BreakDuration).",
        call.Reference,
        "CircuitOpen",
        inner);

    public void Dispose()
    {
        _policy.Dispose();
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    internal static string ServiceName(AwsService service) => service == AwsService.SecretsManager ? "Secrets Manager" : "Parameter Store";

    /// <summary>The <see cref="RetryOptions"/> member that overrides retries for <paramref name="service"/>.</summary>
    private static string ServiceOption(AwsService service) => service == AwsService.SecretsManager ? nameof(RetryOptions.SecretsManager) : nameof(RetryOptions.ParameterStore);

    /// <summary>The X-Amz-Target of an operation: a literal for every operation the readers send, so none is concatenated per call.</summary>
    internal static string Target(AwsService service, string operation) => (service, operation) switch
    {
        (AwsService.SecretsManager, "GetSecretValue") => "secretsmanager.GetSecretValue",
        (AwsService.SecretsManager, "DescribeSecret") => "secretsmanager.DescribeSecret",
        (AwsService.SecretsManager, BatchOperation) => "secretsmanager.BatchGetSecretValue",
        (AwsService.ParameterStore, "GetParameter") => "AmazonSSM.GetParameter",
        (AwsService.ParameterStore, "GetParameters") => "AmazonSSM.GetParameters",
        (AwsService.ParameterStore, "GetParametersByPath") => "AmazonSSM.GetParametersByPath",
        _ => (service == AwsService.SecretsManager ? "secretsmanager." : "AmazonSSM.") + operation,
    };

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<TResponse> AttemptAsync<TResponse>(Call<TResponse> call, ResilienceContext context)
    {
        var cancellationToken = context.CancellationToken;
        var credentials = await _credentials.GetAsync().ConfigureAwait(false);
        var correctedSkew = false;
        while (true)
        {
            using var attempt = new DeadlineToken(_options.AttemptTimeout, _time, cancellationToken);
            using var message = BuildRequest(call, credentials);
            var (response, body) = await ExchangeAsync(call, message, attempt.Token, cancellationToken).ConfigureAwait(false);
            using (response)
            using (body)
            {
                if (response.IsSuccessStatusCode)
                {
                    return Deserialize(call, body.Span);
                }

                var error = ReadError(body.Span);
                var code = AwsErrorMapper.NormalizeCode(error?.Type);
                if (!correctedSkew && AwsErrorMapper.IsClockSkew(code, error?.Message) && TryCorrectClock(call.Service, response.Headers.Date))
                {
                    // Re-sign with the corrected clock, as AWS SDKs do. Not a retry, but a request AWS counts: it takes a token.
                    correctedSkew = true;
                    await RateLimitStage.TakeTokenAsync(context).ConfigureAwait(false);
                    continue;
                }

                throw AwsErrorMapper.Map(ServiceName(call.Service), (int)response.StatusCode, error?.Type, error?.Message, call.Reference);
            }
        }
    }

    /// <summary>
    /// Sends one signed request and reads its answer through <see cref="AwsOptions.MaxResponseBytes"/>. A redirect, followed
    /// or not, is refused before its body is read; so is an answer over the cap, whose connection is dropped undrained.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(HttpResponseMessage Response, ResponseBody Body)> ExchangeAsync<TResponse>(
        Call<TResponse> call, HttpRequestMessage message, CancellationToken attemptToken, CancellationToken callerToken)
    {
        HttpResponseMessage? response = null;
        var answered = false;
        try
        {
            response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, attemptToken).ConfigureAwait(false);
            var answer = new UntrustedAnswer(ServiceName(call.Service), call.Endpoint.Url, call.Target, call.Reference);
            answer.ThrowIfRedirected(message, response);
            var body = await ResponseBody.ReadAsync(response.Content, _options.MaxResponseBytes, attemptToken).ConfigureAwait(false)
                ?? throw answer.TooLarge(response, _options.MaxResponseBytes);
            answered = true;
            return (response, body);
        }
        catch (OperationCanceledException ex) when (!callerToken.IsCancellationRequested)
        {
            throw new SecretServiceUnavailableException(
                $"AWS {ServiceName(call.Service)} did not answer one attempt within {_options.AttemptTimeout.TotalSeconds:0.###} s ({call.Endpoint.Url.Host}; Aws.AttemptTimeout, raise it if AWS is slow but answering).", call.Reference, TimeoutCodes.AttemptTimeout, ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new SecretServiceUnavailableException(
                $"AWS {ServiceName(call.Service)} could not be reached at {call.Endpoint.Url.Host}: {AwsErrorMapper.Sanitize(ex.Message)}", call.Reference, "ConnectionError", ex);
        }
        finally
        {
            if (!answered)
            {
                response?.Dispose();
            }
        }
    }

    private HttpRequestMessage BuildRequest<TResponse>(Call<TResponse> call, ImmutableCredentials credentials)
    {
        var message = new HttpRequestMessage(HttpMethod.Post, call.Endpoint.Url)
        {
            Content = new ByteArrayContent(call.Body),
            Version = _http.DefaultRequestVersion,
        };
        var signedAt = _time.GetUtcNow().UtcDateTime + ClockSkew(call.Service);
        var endpoint = call.Endpoint;
        if (endpoint.AtRoot)
        {
            RequestSigner.SignJsonAtRoot(message, endpoint.SignedHost, call.Target, call.Body, credentials, endpoint.SigningRegion, endpoint.SigningService, signedAt);
        }
        else
        {
            message.Content.Headers.ContentType = RequestSigner.JsonMediaType;
            message.Headers.TryAddWithoutValidation(RequestSigner.AmzTarget, call.Target);
            RequestSigner.Sign(message, call.Body, credentials, endpoint.SigningRegion, endpoint.SigningService, signedAt);
        }

        return message;
    }

    private static TResponse Deserialize<TResponse>(Call<TResponse> call, ReadOnlySpan<byte> body)
    {
        new UntrustedAnswer(ServiceName(call.Service), call.Endpoint.Url, call.Target, call.Reference).ThrowIfErrorShape(body);

        try
        {
            return JsonSerializer.Deserialize(body, call.ResponseType)
                ?? throw new SecretServiceUnavailableException($"AWS {ServiceName(call.Service)} sent an empty answer to {call.Target}.", call.Reference, "EmptyResponse");
        }
        catch (JsonException ex)
        {
            // The body may hold secret material, so neither it nor the parser's message (which can quote it) is kept.
            throw new SecretServiceUnavailableException(
                $"AWS {ServiceName(call.Service)} sent a malformed answer to {call.Target} (invalid JSON at byte {ex.BytePositionInLine ?? 0}).", call.Reference, "MalformedResponse");
        }
    }

    private static AwsErrorBody? ReadError(ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize(body, AwsJsonContext.Default.AwsErrorBody);
        }
        catch (JsonException)
        {
            return null; // A proxy's HTML page, say: the status code alone decides.
        }
    }

    private bool TryCorrectClock(AwsService service, DateTimeOffset? serverDate)
    {
        if (serverDate is null)
        {
            return false;
        }

        var skew = serverDate.Value - _time.GetUtcNow();
        Interlocked.Exchange(ref _clockSkewTicks[(int)service], skew.Ticks);
        return true;
    }

    private ResolvedEndpoint Endpoint(AwsService service, string region) =>
        _endpoints.GetOrAdd((service, region), static (key, client) =>
        {
            var (service, region) = key;
            return AwsEndpointResolver.Resolve(
                service, region, new EndpointSettings(client.ConfiguredUrl(service), client._options.UseFips, client._options.UseDualStack), client._environment);
        }, this);

    /// <summary>
    /// The endpoint option in force for a service: its own URL, else <see cref="AwsOptions.ServiceUrl"/>. A blank per-service
    /// URL (an empty configuration value) counts as unset, as blank values do everywhere else.
    /// </summary>
    private string? ConfiguredUrl(AwsService service)
    {
        var own = service == AwsService.SecretsManager ? _options.SecretsManagerServiceUrl : _options.ParameterStoreServiceUrl;
        return string.IsNullOrWhiteSpace(own) ? _options.ServiceUrl : own;
    }

    private string ResolveDefaultRegion()
    {
        var region = RegionResolver.TryResolve(_options.Region, _options.Profile, _options.ProfilesLocation, _environment) ?? throw new SecretsConfigurationException(RegionResolver.NoRegionMessage);
        RegionFailover.ThrowIfConflicts(region, _options.FailoverRegions); // a region from AWS_REGION or a profile was not validated with the options
        return region;
    }

    private static HttpClient CreateDefaultHttpClient() => new(new SocketsHttpHandler
    {
        // Pooled connections, recycled so DNS changes of AWS endpoints are picked up.
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        ConnectTimeout = TimeSpan.FromSeconds(5),

        // AWS's JSON endpoints never redirect; following one would send the token, signature and body elsewhere.
        AllowAutoRedirect = false,

        // An answer refused unread (over Aws.MaxResponseBytes) drops its connection instead of draining the rest.
        MaxResponseDrainSize = 0,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan, // Attempt and total timeouts are ours, on the TimeProvider.
    };

    private sealed record Call<TResponse>(
        AwsService Service, ResolvedEndpoint Endpoint, string Target, byte[] Body, JsonTypeInfo<TResponse> ResponseType, string? Reference, CallBudget Budget);
}

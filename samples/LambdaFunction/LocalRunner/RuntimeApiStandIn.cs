using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

/// <summary>One event to hand out: its request id, its JSON and how long the function may take (the deadline is counted from
/// when <c>/next</c> hands it out, as Lambda counts it from the invoke).</summary>
internal sealed record StandInEvent(string RequestId, string Payload, TimeSpan Timeout);

/// <summary>What the runtime posted for one invocation (<c>/response</c> or <c>/error</c>), or for init (<c>/init/error</c>, no request id).</summary>
internal sealed record StandInResult(string? RequestId, bool IsError, string? ErrorType, string? ContentType, string Body);

/// <summary>
/// A stand-in for Lambda's Runtime API (2018-06-01) on 127.0.0.1: hands out the given events one at a time on
/// <c>GET /runtime/invocation/next</c>, then answers 500 (Lambda's "the runtime should exit"); records every response and
/// error, and anything that breaks the protocol. Shared by the local runner, the cold-start benchmark and the tests (linked).
/// </summary>
internal sealed class RuntimeApiStandIn : IAsyncDisposable
{
    public const string FunctionArn = "arn:aws:lambda:eu-west-1:123456789012:function:secrets-function";

    private readonly object _lock = new();
    private readonly Queue<StandInEvent> _pending;
    private readonly List<StandInResult> _results = [];
    private readonly List<string> _violations = [];
    private readonly Action? _onFirstNext;
    private readonly Action<StandInResult>? _onResult;
    private readonly Action<StandInEvent>? _onHandedOut;
    private WebApplication? _app;
    private string? _outstanding;
    private int _nextRequests;

    private RuntimeApiStandIn(IEnumerable<StandInEvent> events, Action? onFirstNext, Action<StandInResult>? onResult, Action<StandInEvent>? onHandedOut)
    {
        _pending = new Queue<StandInEvent>(events);
        _onFirstNext = onFirstNext;
        _onResult = onResult;
        _onHandedOut = onHandedOut;
    }

    /// <summary>What AWS_LAMBDA_RUNTIME_API must say: <c>127.0.0.1:port</c>.</summary>
    public string HostAndPort { get; private set; } = "";

    /// <summary>Every <c>GET /next</c> received, including the refused ones.</summary>
    public int NextRequests
    {
        get
        {
            lock (_lock)
            {
                return _nextRequests;
            }
        }
    }

    /// <summary>Responses and errors, in the order they arrived.</summary>
    public IReadOnlyList<StandInResult> Results
    {
        get
        {
            lock (_lock)
            {
                return [.. _results];
            }
        }
    }

    /// <summary>Protocol breaches seen (unknown paths, unknown or repeated request ids, /next with an invocation outstanding).</summary>
    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_lock)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>Starts on a free loopback port. <paramref name="onFirstNext"/> runs when the first <c>/next</c> arrives, before it is
    /// answered: the end of init as Lambda measures it. <paramref name="onResult"/> runs as each result is recorded.
    /// <paramref name="onHandedOut"/> runs as an event is handed out, just before its payload is sent: where Lambda starts an
    /// invocation's Duration, which ends when the result is recorded.</summary>
    public static async Task<RuntimeApiStandIn> StartAsync(IEnumerable<StandInEvent> events, Action? onFirstNext = null, Action<StandInResult>? onResult = null, Action<StandInEvent>? onHandedOut = null)
    {
        var standIn = new RuntimeApiStandIn(events, onFirstNext, onResult, onHandedOut);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(o => o.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(standIn.HandleAsync);
        await app.StartAsync();
        standIn._app = app;
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
        standIn.HostAndPort = $"127.0.0.1:{address.Port.ToString(CultureInfo.InvariantCulture)}";
        return standIn;
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _app.StopAsync(timeout.Token);
            await _app.DisposeAsync();
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        const string prefix = "/2018-06-01/runtime/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            await RefuseAsync(context, 404, $"{context.Request.Method} {path}: not a Runtime API path");
            return;
        }

        var resource = path[prefix.Length..];
        if (HttpMethods.IsGet(context.Request.Method) && resource == "invocation/next")
        {
            await NextAsync(context);
        }
        else if (HttpMethods.IsPost(context.Request.Method) && resource == "init/error")
        {
            await RecordAsync(context, null, isError: true);
        }
        else if (HttpMethods.IsPost(context.Request.Method) && resource.StartsWith("invocation/", StringComparison.Ordinal)
            && resource.Split('/') is [_, var id, var kind and ("response" or "error")])
        {
            await RecordAsync(context, Uri.UnescapeDataString(id), kind == "error");
        }
        else
        {
            await RefuseAsync(context, 404, $"{context.Request.Method} {path}: not a Runtime API resource");
        }
    }

    private async Task NextAsync(HttpContext context)
    {
        StandInEvent? next;
        bool first;
        lock (_lock)
        {
            first = _nextRequests++ == 0;
            if (_outstanding is not null)
            {
                _violations.Add($"GET /next while invocation {_outstanding} had no response or error");
            }

            _pending.TryDequeue(out next);
            _outstanding = next?.RequestId;
        }

        if (first)
        {
            _onFirstNext?.Invoke();
        }

        if (next is null)
        {
            context.Response.StatusCode = 500;
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("""{"errorMessage":"The stand-in has no more events.","errorType":"StandIn.NoMoreEvents"}""");
            return;
        }

        var headers = context.Response.Headers;
        headers["Lambda-Runtime-Aws-Request-Id"] = next.RequestId;
        headers["Lambda-Runtime-Deadline-Ms"] = (DateTimeOffset.UtcNow + next.Timeout).ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        headers["Lambda-Runtime-Invoked-Function-Arn"] = FunctionArn;
        headers["Lambda-Runtime-Trace-Id"] = $"Root=1-{Guid.NewGuid():N};Sampled=0";
        context.Response.ContentType = "application/json";
        _onHandedOut?.Invoke(next);
        await context.Response.WriteAsync(next.Payload);
    }

    private async Task RecordAsync(HttpContext context, string? requestId, bool isError)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        var errorType = context.Request.Headers["Lambda-Runtime-Function-Error-Type"].ToString() is { Length: > 0 } type ? type : null;
        string? violation = null;
        var result = new StandInResult(requestId, isError, errorType, context.Request.ContentType, body);
        lock (_lock)
        {
            if (requestId is not null && requestId != _outstanding)
            {
                violation = $"a result for {requestId}, which is not the outstanding invocation";
            }
            else if (requestId is null && _nextRequests > 0)
            {
                violation = "/init/error after init ended (a /next was made)";
            }
            else
            {
                _results.Add(result);
                _outstanding = null;
            }

            if (violation is not null)
            {
                _violations.Add(violation);
            }
        }

        if (violation is not null)
        {
            context.Response.StatusCode = 400;
            return;
        }

        _onResult?.Invoke(result);
        context.Response.StatusCode = 202;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync("""{"status":"OK"}""");
    }

    private Task RefuseAsync(HttpContext context, int status, string violation)
    {
        lock (_lock)
        {
            _violations.Add(violation);
        }

        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}

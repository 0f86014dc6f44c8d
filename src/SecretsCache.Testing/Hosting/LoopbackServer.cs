using System.Net;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace SecretsCache.Testing.Hosting;

/// <summary>Kestrel on 127.0.0.1 with one request delegate: no host, no DI container, no routing.</summary>
internal sealed class LoopbackServer : IAsyncDisposable
{
    private const long MaxRequestBodyBytes = 4 * 1024 * 1024;
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);

    private readonly KestrelServer _server;

    private LoopbackServer(KestrelServer server, Uri endpoint)
    {
        _server = server;
        Endpoint = endpoint;
    }

    /// <summary><c>http://127.0.0.1:&lt;port&gt;/</c>.</summary>
    public Uri Endpoint { get; }

    public static async Task<LoopbackServer> StartAsync(int port, ILoggerFactory loggerFactory, RequestDelegate handler, CancellationToken cancellationToken)
    {
        var options = new KestrelServerOptions { AddServerHeader = false };
        options.Limits.MaxRequestBodySize = MaxRequestBodyBytes;
        options.Listen(IPAddress.Loopback, port);
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions()), loggerFactory);
        var server = new KestrelServer(Options.Create(options), transport, loggerFactory);
        try
        {
            await server.StartAsync(new Application(handler), cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            server.Dispose();
            throw;
        }

        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel did not report the address it bound.");
        var bound = new Uri(address);
        return new LoopbackServer(server, new Uri($"http://127.0.0.1:{bound.Port.ToString(System.Globalization.CultureInfo.InvariantCulture)}/"));
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(StopTimeout);
        await _server.StopAsync(timeout.Token).ConfigureAwait(false);
        _server.Dispose();
    }

    /// <summary>The smallest <see cref="IHttpApplication{TContext}"/>: a <see cref="DefaultHttpContext"/> per request.</summary>
    private sealed class Application(RequestDelegate handler) : IHttpApplication<HttpContext>
    {
        public HttpContext CreateContext(IFeatureCollection contextFeatures) => new DefaultHttpContext(contextFeatures);

        public Task ProcessRequestAsync(HttpContext context) => handler(context);

        public void DisposeContext(HttpContext context, Exception? exception)
        {
        }
    }
}

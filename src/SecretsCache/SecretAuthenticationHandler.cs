using System.Net;
using System.Net.Http.Headers;
using SecretsCache.Rotation;

namespace SecretsCache;

/// <summary>
/// An <see cref="HttpClient"/> handler that puts a secret into every request (a bearer token, an API-key header...) and
/// survives its rotation: on a 401 it refreshes the secret (rate-limited per reference, as every forced refresh is) and, if that
/// produced a different version, sends the request once more with it. A request whose content cannot be sent twice (for
/// example an unbuffered <see cref="StreamContent"/>) is never resent: its 401 is returned as is.
/// </summary>
public sealed class SecretAuthenticationHandler : DelegatingHandler
{
    private readonly ISecretProvider _provider;
    private readonly string _reference;
    private readonly Action<HttpRequestMessage, Secret> _applySecret;

    /// <summary>Creates the handler.</summary>
    /// <param name="provider">Where the secret is read.</param>
    /// <param name="reference">The secret to use, for example <c>app/api-token</c>.</param>
    /// <param name="applySecret">Puts the secret into a request; called again, on the same request, before a resend.</param>
    /// <exception cref="ArgumentException">The reference is malformed.</exception>
    public SecretAuthenticationHandler(ISecretProvider provider, string reference, Action<HttpRequestMessage, Secret> applySecret)
    {
        ArgumentNullException.ThrowIfNull(provider);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(applySecret);
        _provider = provider;
        _reference = SecretReference.Parse(reference).CanonicalText;
        _applySecret = applySecret;
    }

    /// <summary>A handler that sends the secret's string value as <c>Authorization: Bearer VALUE</c>.</summary>
    public static SecretAuthenticationHandler ForBearerToken(ISecretProvider provider, string reference) =>
        new(provider, reference, static (request, secret) => request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret.GetString()));

    /// <summary>A handler that sends the secret's string value in the header <paramref name="headerName"/> (for example <c>X-Api-Key</c>).</summary>
    public static SecretAuthenticationHandler ForHeader(ISecretProvider provider, string reference, string headerName)
    {
        ArgumentException.ThrowIfNullOrEmpty(headerName);
        return new(provider, reference, (request, secret) =>
        {
            request.Headers.Remove(headerName);
            request.Headers.TryAddWithoutValidation(headerName, secret.GetString());
        });
    }

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var secret = await _provider.GetAsync(_reference, cancellationToken).ConfigureAwait(false);
        _applySecret(request, secret);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !CanResend(request.Content))
        {
            return response;
        }

        Secret refreshed;
        try
        {
            refreshed = await _provider.RefreshAsync(_reference, cancellationToken).ConfigureAwait(false);
        }
        catch (SecretsCacheException)
        {
            return response; // The secret cannot be re-read now: the server's answer stands.
        }

        if (RotationExecutor.SameVersion(secret, refreshed))
        {
            return response; // Nothing new to send: resending the same credential would only earn another 401.
        }

        response.Dispose();
        _applySecret(request, refreshed);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True for content that serializes the same bytes every time it is sent.</summary>
    internal static bool CanResend(HttpContent? content) => content switch
    {
        null => true,
        ByteArrayContent => true, // Also StringContent and FormUrlEncodedContent.
        ReadOnlyMemoryContent => true,
        MultipartContent parts => parts.All(CanResend),
        _ => content.GetType().FullName == "System.Net.Http.Json.JsonContent", // Serializes its value anew for every send.
    };
}

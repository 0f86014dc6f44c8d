namespace LambdaFunction.Runtime;

/// <summary>Handles one invocation: its event in, its response out. The token fires shortly before the invocation's deadline.</summary>
public delegate Task<Stream> InvocationHandler(Invocation invocation, CancellationToken cancellationToken);

/// <summary>
/// A custom runtime's loop: init once, then next → handle → response (or error) until the Runtime API ends the environment.
/// Init is everything before the first <c>/next</c>: Lambda reports it as Init Duration and gives it the full CPU.
/// </summary>
public static class LambdaRuntime
{
    /// <summary>The Runtime API ended the environment (it refused <c>/next</c>).</summary>
    public const int EndedByRuntimeApi = 0;

    /// <summary>Init failed and was reported through <c>/runtime/init/error</c>.</summary>
    public const int InitFailed = 1;

    /// <summary>The Runtime API broke the protocol or could not be reached.</summary>
    public const int RuntimeApiFailed = 3;

    // Time left after cancelling the handler to post its error before Lambda stops the function at the deadline.
    private static readonly TimeSpan DeadlineMargin = TimeSpan.FromMilliseconds(100);

    // A timer's longest delay; Lambda's deadlines are at most 15 minutes away, but the header is not trusted.
    private static readonly TimeSpan MaxDelay = TimeSpan.FromDays(24);

    public static async Task<int> RunAsync(RuntimeApiClient api, Func<CancellationToken, Task<InvocationHandler>> initialize, TextWriter log, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(api);
        ArgumentNullException.ThrowIfNull(initialize);
        ArgumentNullException.ThrowIfNull(log);
        ArgumentNullException.ThrowIfNull(time);
        InvocationHandler handler;
        try
        {
            handler = await initialize(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            await log.WriteLineAsync($"init failed: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            var report = ErrorReport.From(e);
            return await TryAsync(() => api.ReportInitErrorAsync($"Function.{report.ErrorType}", report, cancellationToken), log).ConfigureAwait(false) ?? InitFailed;
        }

        while (true)
        {
            Invocation invocation;
            try
            {
                invocation = await api.NextAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (RuntimeApiException e) when (e.StatusCode != 0)
            {
                await log.WriteLineAsync($"{e.Message} Exiting.").ConfigureAwait(false);
                return EndedByRuntimeApi;
            }
            catch (Exception e) when (e is RuntimeApiException or HttpRequestException)
            {
                await log.WriteLineAsync($"{e.Message} Exiting.").ConfigureAwait(false);
                return RuntimeApiFailed;
            }

            // The X-Ray SDK and AWS SDKs read the trace header from here.
            Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", invocation.TraceId);
            if (await TryAsync(() => InvokeAsync(api, handler, invocation, log, time, cancellationToken), log).ConfigureAwait(false) is { } exit)
            {
                return exit;
            }
        }
    }

    private static async Task InvokeAsync(RuntimeApiClient api, InvocationHandler handler, Invocation invocation, TextWriter log, TimeProvider time, CancellationToken cancellationToken)
    {
        var remaining = invocation.Deadline - time.GetUtcNow() - DeadlineMargin;
        using var deadline = new CancellationTokenSource(remaining > MaxDelay ? MaxDelay : remaining > TimeSpan.Zero ? remaining : Timeout.InfiniteTimeSpan, time);
        if (remaining <= TimeSpan.Zero)
        {
            await deadline.CancelAsync().ConfigureAwait(false);
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, cancellationToken);
        Stream output;
        try
        {
            output = await handler(invocation, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            await log.WriteLineAsync($"invocation {invocation.RequestId}: deadline reached").ConfigureAwait(false);
            var report = new ErrorReport("The invocation did not finish before its deadline (Lambda-Runtime-Deadline-Ms).", "DeadlineExceeded", []);
            await api.ReportInvocationErrorAsync(invocation.RequestId, "Function.DeadlineExceeded", report, cancellationToken).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (!cancellationToken.IsCancellationRequested)
        {
            await log.WriteLineAsync($"invocation {invocation.RequestId} failed: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            var report = ErrorReport.From(e);
            await api.ReportInvocationErrorAsync(invocation.RequestId, $"Function.{report.ErrorType}", report, cancellationToken).ConfigureAwait(false);
            return;
        }

        await using (output.ConfigureAwait(false))
        {
            await api.RespondAsync(invocation.RequestId, output, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Runs a post to the API: null to go on (it succeeded, or the API refused only that invocation's result), else the exit code.</summary>
    private static async Task<int?> TryAsync(Func<Task> post, TextWriter log)
    {
        try
        {
            await post().ConfigureAwait(false);
            return null;
        }
        catch (RuntimeApiException e) when (e.IsInvocationRefused)
        {
            await log.WriteLineAsync(e.Message).ConfigureAwait(false);
            return null;
        }
        catch (Exception e) when (e is RuntimeApiException or HttpRequestException)
        {
            await log.WriteLineAsync($"{e.Message} Exiting.").ConfigureAwait(false);
            return RuntimeApiFailed;
        }
    }
}

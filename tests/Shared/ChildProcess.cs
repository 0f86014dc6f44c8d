using System.Diagnostics;

namespace SecretsCache.TestSupport;

/// <summary>What a finished child process printed.</summary>
internal sealed record ChildProcessResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// Runs a child process to its end with stdin closed and both outputs captured, bounded by a timeout: past it, the whole
/// process tree is killed and <see cref="TimeoutException"/> says what it had printed. Shared by the test projects (linked).
/// </summary>
internal static class ChildProcess
{
    public static async Task<ChildProcessResult> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardInput = true;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} could not be started.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException(
                $"'{start.FileName} {string.Join(' ', start.ArgumentList)}' did not exit within {timeout.TotalSeconds:0} s and was killed.\n--- stdout ---\n{await stdout}--- stderr ---\n{await stderr}");
        }

        return new ChildProcessResult(process.ExitCode, await stdout, await stderr);
    }
}

using System.Buffers;

namespace SecretsCache.Aws.Protocol;

/// <summary>
/// An answer's body, read through a cap that is enforced while streaming: a Content-Length over the cap fails before anything
/// is read, and a body without one (chunked, or decompressed by a user's handler) fails as soon as it passes the cap. The rest
/// is never read; the caller disposes the response, and the provider's own handlers drop such a connection rather than drain
/// it. The buffer holds secret material, so it is cleared before it is given back.
/// </summary>
internal sealed class ResponseBody : IDisposable
{
    /// <summary>Buffers up to this size come from the shared pool (every ordinary answer); larger ones are allocated and dropped.</summary>
    private const int PooledLimit = 1024 * 1024;

    private const int FirstChunk = 16 * 1024;

    private static readonly ResponseBody Empty = new([], 0);

    private byte[] _buffer;

    private ResponseBody(byte[] buffer, int length)
    {
        _buffer = buffer;
        Length = length;
    }

    public int Length { get; }

    public ReadOnlySpan<byte> Span => _buffer.AsSpan(0, Length);

    /// <summary>Reads the whole body, or returns <see langword="null"/> as soon as it is known to be longer than <paramref name="maxBytes"/>.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<ResponseBody?> ReadAsync(HttpContent content, int maxBytes, CancellationToken cancellationToken)
    {
        var declared = content.Headers.ContentLength;
        if (declared > maxBytes)
        {
            return null;
        }

        if (declared == 0)
        {
            return Empty;
        }

        var stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = Rent(declared is { } exact ? (int)exact : Math.Min(FirstChunk, maxBytes));
        var length = 0;
        var done = false;
        try
        {
            while (length != declared) // HttpClient never gives more than a Content-Length declares
            {
                var room = Math.Min(buffer.Length, maxBytes) - length;
                if (room == 0)
                {
                    if (length == maxBytes)
                    {
                        // Full to the cap: the body is too long if there is one more byte.
                        var probe = new byte[1];
                        if (await stream.ReadAsync(probe, cancellationToken).ConfigureAwait(false) == 0)
                        {
                            break;
                        }

                        return null;
                    }

                    buffer = Grow(buffer, length, (int)Math.Min(maxBytes, 2L * length));
                    continue;
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length, room), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
            }

            done = true;
            return new ResponseBody(buffer, length);
        }
        finally
        {
            if (!done)
            {
                Return(buffer, length);
            }
        }
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        Return(buffer, Length);
    }

    private static byte[] Rent(int size) => size <= PooledLimit ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);

    private static byte[] Grow(byte[] buffer, int length, int size)
    {
        var larger = Rent(size);
        buffer.AsSpan(0, length).CopyTo(larger);
        Return(buffer, length);
        return larger;
    }

    /// <summary>Clears what was written and gives a pooled buffer back (pooled ones are never longer than <see cref="PooledLimit"/>).</summary>
    private static void Return(byte[] buffer, int length)
    {
        buffer.AsSpan(0, length).Clear();
        if (buffer.Length is > 0 and <= PooledLimit)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

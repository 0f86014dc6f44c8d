using System.Diagnostics;

namespace SecretsCache.Diagnostics;

/// <summary>Traces each backend fetch. Tags follow <see cref="TelemetryTags"/>: source, kind, and the name only when allowed.</summary>
internal static class SecretsCacheActivities
{
    public static readonly ActivitySource Source = new(SecretsCacheTelemetry.ActivitySourceName, typeof(SecretsCacheActivities).Assembly.GetName().Version?.ToString());

    public static Activity? StartFetch(in TagList tags)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity("secretscache.fetch", ActivityKind.Internal);
        if (activity is not null)
        {
            foreach (var tag in tags)
            {
                activity.SetTag(tag.Key, tag.Value);
            }
        }

        return activity;
    }

    public static Activity? StartPathFetch(in TagList tags)
    {
        var activity = Source.HasListeners() ? Source.StartActivity("secretscache.fetch_path", ActivityKind.Internal) : null;
        if (activity is not null)
        {
            foreach (var tag in tags)
            {
                activity.SetTag(tag.Key, tag.Value);
            }
        }

        return activity;
    }

    public static Activity? StartBatchFetch(int size)
    {
        var activity = Source.HasListeners() ? Source.StartActivity("secretscache.fetch_batch", ActivityKind.Internal) : null;
        activity?.SetTag(TelemetryTags.BatchSize, size);
        return activity;
    }

    public static void Fail(Activity? activity, Exception error)
    {
        if (activity is null)
        {
            return;
        }

        // The exception type and AWS error code only: messages are kept out of traces on principle.
        activity.SetStatus(ActivityStatusCode.Error, SecretsCacheMetrics.ErrorTypeOf(error));
        activity.SetTag(TelemetryTags.ErrorType, SecretsCacheMetrics.ErrorTypeOf(error));
    }
}

using System.Diagnostics.Metrics;

namespace SecretsCache.Tests.Support;

/// <summary>
/// Runs an action inside the engine, at the moment it records one measurement of one instrument, on the recording thread.
/// The engine records a miss after it looked at an entry and before it joins or starts a fetch, so this is how a test puts
/// another caller's whole read exactly into that window, deterministically, without timing.
/// </summary>
internal sealed class MeasurementHook : IDisposable
{
    private readonly MeterListener _listener = new();
    private Action? _once;

    public MeasurementHook(IMeterFactory factory, string instrument, Action once)
    {
        _once = once;
        _listener.InstrumentPublished = (i, listener) =>
        {
            if (ReferenceEquals(i.Meter.Scope, factory) && i.Name == instrument)
            {
                listener.EnableMeasurementEvents(i);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Exchange(ref _once, null)?.Invoke());
        _listener.Start();
    }

    public bool Fired => Volatile.Read(ref _once) is null;

    public void Dispose() => _listener.Dispose();
}

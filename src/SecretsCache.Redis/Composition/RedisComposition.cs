using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using SecretsCache.Caching;
using SecretsCache.Composition;
using SecretsCache.Redis.Backplane;
using SecretsCache.Redis.Diagnostics;
using SecretsCache.Redis.FleetLimit;
using SecretsCache.Redis.ReadThrough;
using SecretsCache.Resilience;

namespace SecretsCache.Redis.Composition;

/// <summary>
/// The second level of one provider, plugged into the core's composition root (<see cref="SecretsCacheRuntimeHooks"/>): the
/// read-through source, the fleet-wide limiters and the backplane on the engine. The level connects in the background once
/// the provider exists (it reads the key secret through that provider, past the second level), so creating a provider never
/// waits for Redis nor fails for it; until the level is up, reads go to AWS and the limiters hold this instance to its
/// static share. Disposed with the provider (through its source).
/// </summary>
internal sealed class RedisComposition : IEngineAnnouncements, IDisposable
{
    private readonly RedisL2Options _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory? _loggerFactory;
    private readonly IMeterFactory? _meterFactory;
    private readonly ILogger _logger;
    private readonly SecretReference[] _exempt;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private volatile RedisSecondLevel? _level;
    private readonly ClientRateLimiter?[] _staticShares = new ClientRateLimiter?[3]; // by FleetQuota: the limits before the level is up
    private CacheEngine? _engine;
    private Task _ready = Task.CompletedTask;
    private bool _disposed;

    public RedisComposition(RedisL2Options options, TimeProvider? time, ILoggerFactory? loggerFactory, IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ThrowIfInvalid();
        _options = options;
        RefreshAheadFraction = options.RefreshAheadFraction;
        _time = time ?? TimeProvider.System;
        _loggerFactory = loggerFactory;
        _meterFactory = meterFactory;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("SecretsCache.Redis");
        _exempt = [.. new[] { options.EncryptionKeySecret, options.PasswordSecret }.OfType<string>().Select(SecretReference.Parse)];
        HeldByEngine = Holds;
    }

    /// <summary>The level, once connected (or connecting: StackExchange.Redis reconnects by itself); null before and after.</summary>
    public RedisSecondLevel? Level => _level;

    /// <summary>Requests waiting in the static share of <paramref name="quota"/> that limits this provider before its level is up.</summary>
    internal long StaticShareQueued(FleetQuota quota) => _staticShares[(int)quota]?.Queued ?? 0;

    /// <summary>Whether the level's limiter of <paramref name="quota"/> falls back to that same share.</summary>
    internal bool LevelFallsBackToStaticShare(FleetQuota quota) =>
        _level?.FleetLimiter[quota] is { } limiter && ReferenceEquals(limiter.Fallback, _staticShares[(int)quota]);

    /// <summary>Completes when the level is made (Redis reachable or not), or could not be made; never faults.</summary>
    public Task Ready => _ready;

    public PendingRemovals Removals { get; } = new();

    /// <summary><see cref="RedisL2Options.RefreshAheadFraction"/>, as validated when the provider was made.</summary>
    public double RefreshAheadFraction { get; }

    /// <summary>Whether the engine holds a key now (one delegate, made once): only then does the backplane keep it.</summary>
    internal Func<string, bool> HeldByEngine { get; }

    public SecretsCacheRuntimeHooks Hooks() => new()
    {
        DecorateSource = (source, settings) => new SecondLevelSource(source, this, settings.Cache),
        ReplaceLimiter = (budget, local, _) => ReplaceLimiter(budget, local),
        Created = Start,
    };

    /// <summary>The key and password secrets: read from AWS directly, never through Redis, never announced.</summary>
    public bool IsExempt(SecretReference reference)
    {
        foreach (var exempt in _exempt)
        {
            if (reference.Store == exempt.Store && string.Equals(reference.Name, exempt.Name, StringComparison.Ordinal)
                && string.Equals(reference.Region, exempt.Region, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    void IEngineAnnouncements.Invalidated(string canonicalKey)
    {
        if (_level is not { } level || IsExempt(SecretReference.Parse(canonicalKey)))
        {
            return;
        }

        Removals.Add(canonicalKey, RemoveAndAnnounceAsync(level, canonicalKey));
    }

    void IEngineAnnouncements.Dropped(string canonicalKey) => _level?.Backplane.Untrack(canonicalKey, HeldByEngine);

    void IEngineAnnouncements.InvalidatedAll()
    {
        if (_level is { } level)
        {
            Removals.AddAll(RemoveAllAndAnnounceAsync(level));
        }
    }

    public void Dispose()
    {
        RedisSecondLevel? level;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            level = _level;
            _level = null;
        }

        if (_engine is { } engine)
        {
            engine.Announcements = null;
        }

        _stopping.Cancel(); // Not disposed: a level still being made may yet register on its token.
        level?.Dispose();
    }

    private ICallLimiter ReplaceLimiter(CallBudget budget, ICallLimiter local)
    {
        var quota = budget switch
        {
            CallBudget.SecretsManagerBatch => FleetQuota.SecretsManagerBatch,
            CallBudget.ParameterStore => FleetQuota.ParameterStore,
            _ => FleetQuota.SecretsManager,
        };
        var rate = FleetRateLimiter.QuotaOf(quota, _options.FleetRateLimits);
        if (rate <= 0)
        {
            return local;
        }

        var share = FleetRateLimiter.StaticShareOf(quota, _options.FleetRateLimits, _options.FleetRateLimits.FallbackFleetSize, _time);
        Interlocked.CompareExchange(ref _staticShares[(int)quota], share, null); // the configured region's: made first, at construction
        return new FleetCallLimiter(this, quota, rate, share);
    }

    private bool Holds(string canonicalKey) => _engine is not { } engine || engine.Holds(canonicalKey);

    /// <summary>How long the engine's value of <paramref name="canonicalKey"/> stays fresh from now; null before the engine is attached or when it holds none.</summary>
    internal TimeSpan? FreshFor(string canonicalKey) => _engine?.FreshFor(canonicalKey);

    private void Start(SecretProvider provider)
    {
        _engine = provider.Engine;
        _ready = Task.Run(() => CreateLevelAsync(provider));
    }

    private async Task CreateLevelAsync(SecretProvider provider)
    {
        RedisSecondLevel level;
        try
        {
            level = await RedisSecondLevel.CreateAsync(_options, provider, _time, _loggerFactory, _meterFactory, _stopping.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // A second level that cannot be made is no second level: the provider reads AWS, as without one.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (!_stopping.IsCancellationRequested)
            {
                RedisLog.LevelFailed(_logger, ex.GetType().Name);
            }

            return;
        }

        lock (_gate)
        {
            if (!_disposed)
            {
                // The level falls back to the very shares the provider used until now: what they spent stays spent.
                for (var quota = 0; quota < _staticShares.Length; quota++)
                {
                    if (_staticShares[quota] is { } share)
                    {
                        level.FleetLimiter.Adopt((FleetQuota)quota, share);
                    }
                }

                level.Backplane.Received += OnReceived;
                _engine!.Announcements = this;
                _level = level;
                // Keys read before the level was up (from AWS): the fleet's announcements about them apply here too.
                foreach (var key in _engine.HeldKeys())
                {
                    if (!IsExempt(SecretReference.Parse(key)))
                    {
                        level.Backplane.Track(key, HeldByEngine);
                    }
                }

                return;
            }
        }

        level.Dispose();
    }

    /// <summary>Another instance's message, applied to this engine off Redis's delivery thread, and never announced again.</summary>
    private void OnReceived(object? sender, BackplaneEvent message)
    {
        if (_engine is not { } engine)
        {
            return;
        }

        ThreadPool.UnsafeQueueUserWorkItem(
            static state =>
            {
                var (engine, message) = state;
                switch (message.Kind)
                {
                    case BackplaneKind.InvalidatedAll:
                        engine.ApplyAnnouncedInvalidateAll();
                        break;
                    case BackplaneKind.Invalidated:
                        foreach (var (key, _) in message.Keys)
                        {
                            engine.ApplyAnnouncedInvalidation(key);
                        }

                        break;
                    default:
                        foreach (var (key, version) in message.Keys)
                        {
                            engine.ApplyAnnouncedVersion(key, version);
                        }

                        break;
                }
            },
            (engine, message),
            preferLocal: false);
    }

    private static async Task RemoveAndAnnounceAsync(RedisSecondLevel level, string canonicalKey)
    {
        await level.Store.RemoveAsync(canonicalKey, CancellationToken.None).ConfigureAwait(false);
        await level.Backplane.PublishAsync(BackplaneKind.Invalidated, [(canonicalKey, null)], CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task RemoveAllAndAnnounceAsync(RedisSecondLevel level)
    {
        await level.Store.RemoveAllAsync(CancellationToken.None).ConfigureAwait(false);
        await level.Backplane.PublishInvalidateAllAsync(CancellationToken.None).ConfigureAwait(false);
    }
}

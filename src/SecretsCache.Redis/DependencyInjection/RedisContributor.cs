using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SecretsCache.Composition;
using SecretsCache.Redis.Composition;

namespace SecretsCache.Redis.DependencyInjection;

/// <summary>The second level of one named provider, as SecretsCache.Hosting's factory asks for it when it builds that provider.</summary>
internal sealed class RedisContributor(string providerName) : ISecretsCacheRuntimeContributor
{
    public string ProviderName => providerName;

    public SecretsCacheRuntimeHooks CreateHooks(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptionsMonitor<RedisL2Options>>().Get(providerName);
        return new RedisComposition(options, services.GetService<TimeProvider>(), services.GetService<ILoggerFactory>(), services.GetService<IMeterFactory>()).Hooks();
    }
}

/// <summary>Start-up validation of <see cref="RedisL2Options"/> (<c>ValidateOnStart</c>); messages never quote a password or key.</summary>
internal sealed class RedisL2OptionsValidator : IValidateOptions<RedisL2Options>
{
    public ValidateOptionsResult Validate(string? name, RedisL2Options options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

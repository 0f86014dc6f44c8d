using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using SecretsCache.Hosting.DependencyInjection;

namespace SecretsCache.Hosting.Tests.DependencyInjection;

/// <summary>
/// Every public option binds from configuration. The options are found by walking the options types, so an option added later
/// is covered without touching this test; only the options that must never come from configuration are listed by name.
/// </summary>
public sealed class BinderCompletenessTests
{
    /// <summary>Set in code only: objects (credentials) that configuration cannot describe.</summary>
    private static readonly HashSet<string> CodeOnly = new(StringComparer.Ordinal) { "Aws:Credentials" };

    [Fact]
    public void Every_public_option_binds_from_configuration()
    {
        var leaves = Leaves(typeof(SecretsCacheOptions), prefix: "").ToList();
        Assert.True(leaves.Count >= 30, $"only {leaves.Count} options found: is the walk still reaching the nested options?");

        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        var expected = new Dictionary<string, object>(StringComparer.Ordinal);
        var unbindable = new List<string>();
        foreach (var (path, property) in leaves)
        {
            if (property.PropertyType == typeof(IList<string>))
            {
                // A list binds by index (SecretsCache:Aws:FailoverRegions:0); two items prove the order is kept.
                values[$"SecretsCache:{path}:0"] = "eu-west-1";
                values[$"SecretsCache:{path}:1"] = "eu-central-1";
                expected[path] = new[] { "eu-west-1", "eu-central-1" };
            }
            else if (NonDefaultValue(property.PropertyType, property.GetValue(Owner(new SecretsCacheOptions(), path))) is { } value)
            {
                values["SecretsCache:" + path] = Convert.ToString(value.Text, CultureInfo.InvariantCulture);
                expected[path] = value.Typed;
            }
            else
            {
                unbindable.Add(path);
            }
        }

        Assert.Equal(CodeOnly.Order(), unbindable.Order());

        var options = new SecretsCacheOptions();
        SecretsCacheOptionsBinder.Bind(new ConfigurationBuilder().AddInMemoryCollection(values).Build().GetSection("SecretsCache"), options);

        foreach (var (path, value) in expected)
        {
            var property = leaves.Single(l => l.Path == path).Property;
            var bound = property.GetValue(Owner(options, path));
            Assert.True(
                value is string[] items ? bound is IList<string> list && list.SequenceEqual(items) : Equals(value, bound),
                $"SecretsCache:{path} did not bind (expected {value}).");
        }
    }

    [Fact]
    public void A_code_only_option_in_configuration_is_refused_by_name()
    {
        var section = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["SecretsCache:TimeProvider"] = "x" }).Build().GetSection("SecretsCache");

        var ex = Assert.Throws<SecretsConfigurationException>(() => SecretsCacheOptionsBinder.Bind(section, new SecretsCacheOptions()));

        Assert.Contains("'SecretsCache:TimeProvider' can only be set in code", ex.Message);
    }

    private static IEnumerable<(string Path, PropertyInfo Property)> Leaves(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            var path = prefix + property.Name;
            if (property.PropertyType.Namespace == "SecretsCache" && property.PropertyType.IsClass && !property.CanWrite)
            {
                foreach (var leaf in Leaves(property.PropertyType, path + ":"))
                {
                    yield return leaf;
                }
            }
            else if (property.Name != nameof(SecretsCacheOptions.TtlByReference)) // a dictionary: OptionsBinderTests cover it
            {
                yield return (path, property);
            }
        }
    }

    private static object Owner(SecretsCacheOptions options, string path)
    {
        object owner = options;
        foreach (var segment in path.Split(':')[..^1])
        {
            owner = owner.GetType().GetProperty(segment)!.GetValue(owner)!;
        }

        return owner;
    }

    /// <summary>A value unlike the current one, as configuration text and as the typed value binding must produce; null for types configuration cannot describe.</summary>
    private static (object Text, object Typed)? NonDefaultValue(Type type, object? current)
    {
        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return NonDefaultValue(underlying, current ?? Activator.CreateInstance(underlying));
        }

        if (type == typeof(TimeSpan))
        {
            return Pick(Equals(current, TimeSpan.FromSeconds(7.25)) ? TimeSpan.FromSeconds(8.5) : TimeSpan.FromSeconds(7.25));
        }

        if (type == typeof(int))
        {
            return Pick(Equals(current, 7) ? 8 : 7);
        }

        if (type == typeof(double))
        {
            return Pick(Equals(current, 0.25) ? 0.375 : 0.25);
        }

        if (type == typeof(bool))
        {
            return Pick(!(bool)current!);
        }

        if (type == typeof(string))
        {
            return Pick(Equals(current, "https://127.0.0.1:1/") ? "https://127.0.0.1:2/" : "https://127.0.0.1:1/");
        }

        if (type.IsEnum)
        {
            return Pick(Enum.GetValues(type).Cast<object>().First(v => !v.Equals(current)));
        }

        return null;
    }

    private static (object Text, object Typed) Pick(object value) => (value is TimeSpan t ? t.ToString("c", CultureInfo.InvariantCulture) : value, value);
}

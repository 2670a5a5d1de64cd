using System.Collections;
using System.Reflection;

namespace X402Serverless.Handler.Hosting;

/// <summary>
/// Refuses settings the binder would silently misread. A list set as one value (X402__AllowedUpstreamRanges=127.0.0.0/8)
/// binds to an empty list, so the setting would simply not apply; the error names the indexed form that works.
/// </summary>
internal static class ConfigurationShape
{
    public static void Check(IConfiguration configuration) => CheckSection(configuration.GetSection(GatewayOptions.Section), typeof(GatewayOptions));

    private static void CheckSection(IConfigurationSection section, Type type)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var child = section.GetSection(property.Name);
            var propertyType = property.PropertyType;
            if (propertyType != typeof(string) && typeof(IEnumerable).IsAssignableFrom(propertyType))
            {
                if (child.Value is { Length: > 0 } single)
                {
                    var env = child.Path.Replace(":", "__", StringComparison.Ordinal);
                    throw new InvalidOperationException(
                        $"{child.Path} is a list, but it was set as one value ('{Shown(single)}'). Set its items by index: " +
                        $"{env}__0=… (and {env}__1=… for a second), or {child.Path}:0 in JSON settings.");
                }
                var itemType = propertyType.IsGenericType ? propertyType.GetGenericArguments()[0] : null;
                if (itemType is not null && IsOptionsClass(itemType))
                {
                    foreach (var item in child.GetChildren())
                    {
                        CheckSection(item, itemType);
                    }
                }
            }
            else if (IsOptionsClass(propertyType))
            {
                CheckSection(child, propertyType);
            }
        }
    }

    private static bool IsOptionsClass(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("X402Serverless", StringComparison.Ordinal) == true;

    // The value may be a secret set in the wrong place: show only its start.
    private static string Shown(string value) => value.Length <= 12 ? value : value[..12] + "…";
}

using System.ComponentModel.DataAnnotations;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Grains.Hosting;

/// <summary>
/// Orleans' <see cref="IConfigurationValidator"/> for the provider options: data annotations plus the checks they
/// cannot express, run by the silo when it starts. A failure is an <see cref="OrleansConfigurationException"/> that
/// names the provider and every failing setting.
/// </summary>
internal sealed class NatsOptionsValidator<TOptions>(string component, string? name, TOptions options, Func<TOptions, IEnumerable<string>>? extra = null) : IConfigurationValidator
    where TOptions : class
{
    public void ValidateConfiguration()
    {
        var failures = Validate(options, extra).ToList();
        if (failures.Count > 0)
        {
            var who = string.IsNullOrEmpty(name) ? component : $"{component} '{name}'";
            throw new OrleansConfigurationException($"Invalid configuration for {who}: {string.Join("; ", failures)}");
        }
    }

    /// <summary>Every failure of <paramref name="value"/>: data annotations, then <paramref name="more"/>.</summary>
    public static IEnumerable<string> Validate(TOptions value, Func<TOptions, IEnumerable<string>>? more)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true);
        foreach (var result in results)
        {
            yield return result.ErrorMessage ?? string.Join(",", result.MemberNames) + " is invalid";
        }

        if (more is not null)
        {
            foreach (var failure in more(value))
            {
                yield return failure;
            }
        }
    }
}

/// <summary>The checks of <see cref="NatsGrainStorageOptions"/> that data annotations cannot express.</summary>
internal static class NatsGrainStorageOptionsChecks
{
    public static IEnumerable<string> Check(NatsGrainStorageOptions options)
    {
        if (string.IsNullOrEmpty(options.ServiceId))
        {
            yield return "ServiceId is empty (it defaults to ClusterOptions.ServiceId)";
        }

        if (options.DefaultStateTtl is { } d && d < TimeSpan.FromSeconds(1))
        {
            yield return $"DefaultStateTtl must be at least 1 second (got {d})";
        }

        foreach (var pair in options.StateTtls)
        {
            if (pair.Value < TimeSpan.FromSeconds(1))
            {
                yield return $"StateTtls['{pair.Key}'] must be at least 1 second (got {pair.Value})";
            }
        }

        if (options.Watch is null)
        {
            yield return "Watch must not be null";
            yield break;
        }

        foreach (var failure in NatsOptionsValidator<GrainStateWatcherOptions>.Validate(options.Watch, null))
        {
            yield return "Watch: " + failure;
        }
    }
}

/// <summary>The checks of <see cref="NatsReminderTableOptions"/> that data annotations cannot express.</summary>
internal static class NatsReminderTableOptionsChecks
{
    public static IEnumerable<string> Check(NatsReminderTableOptions options)
    {
        if (string.IsNullOrEmpty(options.ServiceId))
        {
            yield return "ServiceId is empty (it defaults to ClusterOptions.ServiceId)";
        }
    }
}

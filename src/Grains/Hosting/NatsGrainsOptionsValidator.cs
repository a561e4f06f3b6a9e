using Microsoft.Extensions.Options;

namespace CacheProvider.Grains;

/// <summary>Checks what data annotations cannot: TTLs of at least one second (the server's minimum).</summary>
internal sealed class NatsGrainStorageOptionsValidator : IValidateOptions<NatsGrainStorageOptions>
{
    public ValidateOptionsResult Validate(string? name, NatsGrainStorageOptions options)
    {
        List<string>? failures = null;
        if (options.DefaultStateTtl is { } d && d < TimeSpan.FromSeconds(1))
        {
            (failures ??= []).Add($"DefaultStateTtl of grain storage '{name}' must be at least 1 second (got {d})");
        }

        foreach (var pair in options.StateTtls)
        {
            if (pair.Value < TimeSpan.FromSeconds(1))
            {
                (failures ??= []).Add($"StateTtls['{pair.Key}'] of grain storage '{name}' must be at least 1 second (got {pair.Value})");
            }
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

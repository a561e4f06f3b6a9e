using Microsoft.Extensions.Options;

namespace CacheProvider.Internal;

/// <summary>
/// Options validation for leases, presence and tokens that reports the options class's own message (the
/// Options <c>Validate(predicate, message)</c> overload can only give one fixed message for every problem).
/// </summary>
internal sealed class PatternOptionsValidator<TOptions>(Func<TOptions, string?> check) : IValidateOptions<TOptions>
    where TOptions : class
{
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return check(options) is { } error ? ValidateOptionsResult.Fail(error) : ValidateOptionsResult.Success;
    }
}

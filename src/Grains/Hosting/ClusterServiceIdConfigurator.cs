using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Configuration.Overrides;

namespace CacheProvider.Grains.Hosting;

/// <summary>
/// Fills an empty <c>ServiceId</c> of the provider options from Orleans' <see cref="ClusterOptions.ServiceId"/>
/// (for grain storage, the provider's own cluster options override if one is configured), so the silo's service id
/// is the key namespace unless the options name another one explicitly.
/// </summary>
internal sealed class ClusterServiceIdConfigurator(IServiceProvider services) :
    IPostConfigureOptions<NatsGrainStorageOptions>,
    IPostConfigureOptions<NatsReminderTableOptions>
{
    public void PostConfigure(string? name, NatsGrainStorageOptions options)
    {
        if (string.IsNullOrEmpty(options.ServiceId))
        {
            options.ServiceId = services.GetProviderClusterOptions(name ?? string.Empty).Value.ServiceId;
        }
    }

    public void PostConfigure(string? name, NatsReminderTableOptions options)
    {
        if (string.IsNullOrEmpty(options.ServiceId))
        {
            options.ServiceId = ((IOptions<ClusterOptions>?)services.GetService(typeof(IOptions<ClusterOptions>)))?.Value.ServiceId ?? string.Empty;
        }
    }
}

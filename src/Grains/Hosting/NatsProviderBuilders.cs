using CacheProvider.Connection;
using CacheProvider.Grains;
using CacheProvider.Grains.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Hosting;
using Orleans.Providers;
using Orleans.Storage;

// Configuration-driven set-up: Orleans:GrainStorage:<name>:ProviderType = "Nats", Orleans:Reminders:ProviderType = "Nats".
// "NatsServer" is the provider type Aspire emits for a NATS resource (its resource class name minus "Resource").
[assembly: RegisterProvider("Nats", "GrainStorage", "Silo", typeof(NatsGrainStorageProviderBuilder))]
[assembly: RegisterProvider("NatsServer", "GrainStorage", "Silo", typeof(NatsGrainStorageProviderBuilder))]
[assembly: RegisterProvider("Nats", "Reminders", "Silo", typeof(NatsRemindersProviderBuilder))]
[assembly: RegisterProvider("NatsServer", "Reminders", "Silo", typeof(NatsRemindersProviderBuilder))]

namespace CacheProvider.Grains.Hosting;

/// <summary>
/// What the configuration-driven builders share: the provider's section binds onto its options (every option by its
/// property name, e.g. <c>Bucket</c>, <c>DeleteStateOnClear</c>, <c>StateTtls:cart</c>), and the connection keys Orleans'
/// providers use: <c>ServiceKey</c> names a keyed NATS.Net <c>INatsConnection</c> the app registered; otherwise
/// <c>ConnectionString</c> (a NATS URL), or <c>ConnectionName</c> (a <c>ConnectionStrings</c> entry), makes
/// CacheProvider register the app's connection to that URL when the app has none; with neither, the app's connection
/// (or the <c>Nats</c> section) is used.
/// </summary>
internal static class NatsProviderConfiguration
{
    public const string ServiceKey = "ServiceKey";

    public static void AddConnection(ISiloBuilder builder, IConfigurationSection section) =>
        AddConnection(builder.Services, builder.Configuration, section);

    public static void AddConnection(IServiceCollection services, IConfiguration configuration, IConfigurationSection section)
    {
        if (!string.IsNullOrEmpty(section[ServiceKey]))
        {
            return;
        }

        var url = section["ConnectionString"];
        if (string.IsNullOrEmpty(url) && section["ConnectionName"] is { Length: > 0 } connectionName)
        {
            url = configuration.GetConnectionString(connectionName);
        }

        if (!string.IsNullOrEmpty(url))
        {
            services.AddNatsConnection(o => o.Url = url);
        }
    }
}

/// <summary>Orleans <c>IProviderBuilder</c> for <c>Orleans:GrainStorage:&lt;name&gt;:ProviderType = "Nats"</c>.</summary>
internal sealed class NatsGrainStorageProviderBuilder : IProviderBuilder<ISiloBuilder>
{
    public void Configure(ISiloBuilder builder, string? name, IConfigurationSection configurationSection)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configurationSection);
        NatsProviderConfiguration.AddConnection(builder, configurationSection);
        builder.AddNatsGrainStorage(name ?? ProviderConstants.DEFAULT_STORAGE_PROVIDER_NAME, (OptionsBuilder<NatsGrainStorageOptions> options) => options
            .Bind(configurationSection)
            .Configure<IServiceProvider>((o, services) =>
            {
                if (configurationSection[NatsProviderConfiguration.ServiceKey] is { Length: > 0 } serviceKey)
                {
                    o.ConnectionServiceKey = serviceKey;
                }

                if (configurationSection["SerializerKey"] is { Length: > 0 } serializerKey)
                {
                    o.GrainStorageSerializer = services.GetRequiredKeyedService<IGrainStorageSerializer>(serializerKey);
                }
            }));
    }
}

/// <summary>Orleans <c>IProviderBuilder</c> for <c>Orleans:Reminders:ProviderType = "Nats"</c>.</summary>
internal sealed class NatsRemindersProviderBuilder : IProviderBuilder<ISiloBuilder>
{
    public void Configure(ISiloBuilder builder, string? name, IConfigurationSection configurationSection)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configurationSection);
        NatsProviderConfiguration.AddConnection(builder, configurationSection);
        builder.UseNatsReminderService((OptionsBuilder<NatsReminderTableOptions> options) => options
            .Bind(configurationSection)
            .Configure(o =>
            {
                if (configurationSection[NatsProviderConfiguration.ServiceKey] is { Length: > 0 } serviceKey)
                {
                    o.ConnectionServiceKey = serviceKey;
                }
            }));
    }
}

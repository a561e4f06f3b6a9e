using System.Net;
using CacheProvider.Connection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NATS.Client.Core;
using Orleans;
using Orleans.Configuration;
using Orleans.Hosting;
using Orleans.Runtime;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// One silo of the sample cluster: membership and grain directory (NATS, or Redis for comparison), the NATS grain
/// storage with a per-state TTL and the NATS reminder table, all on the app's one NATS.Net connection. Endpoints on
/// 127.0.0.1 at the given ports; logs on stderr, <see cref="SiloEvent"/> lines on stdout.
/// </summary>
internal static class SiloHost
{
    public static IHost Build(SiloSettings settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        // Membership decisions (suspicions, deaths, joins) are the point of this sample: keep them in the log.
        builder.Logging.AddFilter("Orleans.Runtime.MembershipService", LogLevel.Information);
        if (settings.ReconnectWait is { } wait)
        {
            // The app's own connection (AddNatsConnection then leaves it alone): every provider uses this one.
            builder.Services.AddSingleton<INatsConnection>(services => new NatsConnection(NatsOpts.Default with
            {
                Url = settings.NatsUrl,
                Name = "silo-" + settings.Name,
                ReconnectWaitMin = wait,
                ReconnectWaitMax = wait,
                LoggerFactory = services.GetRequiredService<ILoggerFactory>(),
            }));
        }

        builder.Services.AddNatsConnection(o =>
        {
            o.Url = settings.NatsUrl;
            o.Name = "silo-" + settings.Name;
        });
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.Services.AddSingleton<SiloConsole>();
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = SampleNames.ServiceId;
                o.ClusterId = settings.ClusterId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.Name);
            silo.ConfigureEndpoints(IPAddress.Loopback, settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: false);
            silo.Configure<ClusterMembershipOptions>(o => MembershipProfile.Apply(settings.Probe, o));
            ClusteringSetup.Configure(silo, settings.Clustering, settings.Redis);
            silo.AddNatsGrainStorage(SampleNames.Storage, o =>
            {
                o.Bucket = SampleNames.StateBucket;
                o.StateTtls[SampleNames.CounterState] = SampleNames.CounterTtl;
            });
            silo.UseNatsReminderService(o => o.Bucket = SampleNames.ReminderBucket);
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
            silo.ConfigureServices(services => services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloReporter>());
        });
        return builder.Build();
    }
}

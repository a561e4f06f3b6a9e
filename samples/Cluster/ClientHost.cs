using Microsoft.Extensions.DependencyInjection;
using CacheProvider.Connection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Hosting;

namespace CacheProvider.Samples.Cluster;

/// <summary>
/// The Orleans client of the front end: it finds the gateways through the same membership store the silos use (NATS,
/// or Redis for comparison) and refreshes that list every few seconds, so a killed silo's gateway drops out and a
/// restarted one comes back quickly.
/// </summary>
internal static class ClientHost
{
    public static async Task<IHost> StartAsync(string natsUrl, ClusteringProvider clustering, string? redis, string clusterId, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        // The client logs every failed gateway connection while a silo is down: that is the story, not news.
        builder.Logging.SetMinimumLevel(LogLevel.Error);
        builder.Services.AddNatsConnection(o =>
        {
            o.Url = natsUrl;
            o.Name = "cluster-client";
        });
        builder.Services.AddSingleton<IHostLifetime, NoSignalLifetime>();
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ServiceId = SampleNames.ServiceId;
                o.ClusterId = clusterId;
            });
            ClusteringSetup.Configure(client, clustering, redis);
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = TimeSpan.FromSeconds(2));
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(15));
        });
        var host = builder.Build();
        try
        {
            await host.StartAsync(cancellationToken);
            return host;
        }
        catch
        {
            host.Dispose();
            throw;
        }
    }
}

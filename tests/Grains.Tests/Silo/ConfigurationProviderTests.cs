using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using Orleans;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.Storage;
using Orleans.TestingHost;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>
/// A silo whose NATS providers come only from configuration (<c>Orleans:GrainStorage:&lt;name&gt;:ProviderType = "Nats"</c>,
/// <c>Orleans:Reminders:ProviderType = "Nats"</c>), resolved through Orleans' <c>[RegisterProvider]</c> builders.
/// </summary>
public sealed class ConfigurationProviderTests
{
    [Fact]
    public async Task Providers_configured_only_from_configuration_serve_grain_state_and_reminders()
    {
        await using var server = await NatsServer.StartAsync();
        await using var keyedConnection = await server.ConnectAsync();
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSiloHost((_, host) => host.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            // Storage: its own connection to a URL (CacheProvider registers the app's connection from it).
            [$"Orleans:GrainStorage:{SiloFixture.StorageName}:ProviderType"] = "Nats",
            [$"Orleans:GrainStorage:{SiloFixture.StorageName}:ConnectionString"] = server.Url,
            [$"Orleans:GrainStorage:{SiloFixture.StorageName}:Bucket"] = "cfg-state",
            [$"Orleans:GrainStorage:{SiloFixture.StorageName}:Storage"] = "Memory",
            [$"Orleans:GrainStorage:{SiloFixture.StorageName}:DeleteStateOnClear"] = "true",
            [$"Orleans:GrainStorage:{SiloFixture.StorageName}:StateTtls:short"] = "00:00:05",

            // Reminders: a keyed connection the app registered (Aspire's ServiceKey convention).
            ["Orleans:Reminders:ProviderType"] = "NatsServer",
            ["Orleans:Reminders:ServiceKey"] = "reminders-nats",
            ["Orleans:Reminders:Bucket"] = "cfg-reminders",
            ["Orleans:Reminders:HashPrefixDepth"] = "2",
        }));
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddKeyedSingleton<INatsConnection>("reminders-nats", keyedConnection);
            silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = TimeSpan.FromSeconds(1));
        });
        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync();
            var services = cluster.Silos[0].ServiceProvider;

            var storage = Assert.IsType<NatsGrainStorage>(services.GetRequiredKeyedService<IGrainStorage>(SiloFixture.StorageName));
            Assert.Equal("cfg-state", storage.Options.Bucket);
            Assert.True(storage.Options.DeleteStateOnClear);
            Assert.Equal(TimeSpan.FromSeconds(5), storage.GetStateTtl<NoteState>("short"));
            Assert.Equal(cluster.Options.ServiceId, storage.ServiceId);

            var note = cluster.Client.GetGrain<INoteGrain>("from-configuration");
            var written = await note.Write("configured");
            Assert.True(written.RecordExists);
            await cluster.DeactivateAsync(note);
            Assert.Equal("configured", (await note.Get()).Value);
            var cleared = await note.Clear();
            Assert.Null(cleared.ETag);

            var table = Assert.IsType<NatsReminderTable>(services.GetRequiredService<IReminderTable>());
            var reminderOptions = services.GetRequiredService<IOptions<NatsReminderTableOptions>>().Value;
            Assert.Equal("reminders-nats", reminderOptions.ConnectionServiceKey);
            Assert.Equal("cfg-reminders", reminderOptions.Bucket);
            Assert.Equal(2, reminderOptions.HashPrefixDepth);
            var ticking = cluster.Client.GetGrain<ITickingGrain>("from-configuration");
            await ticking.Start(TimeSpan.FromSeconds(1));
            Assert.Single((await table.ReadRows(ticking.GetGrainId())).Reminders);
            await ticking.Stop();
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}

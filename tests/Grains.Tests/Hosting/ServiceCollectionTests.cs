using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace CacheProvider.Grains.Tests.Hosting;

/// <summary>DI registration in the Orleans provider style: keyed by name, validated named options, serializer lookup.</summary>
public sealed class ServiceCollectionTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Named_storage_is_a_keyed_IGrainStorage_and_Default_is_also_unkeyed()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var services = new ServiceCollection().AddSingleton<INatsConnection>(host.Connection);
        services.AddNatsGrainStorage("orders", o => o.ServiceId = host.ServiceId);
        services.AddNatsGrainStorageAsDefault(o => o.ServiceId = host.ServiceId);
        await using var provider = services.BuildServiceProvider();
        var orders = provider.GetRequiredKeyedService<IGrainStorage>("orders");
        Assert.Equal("orders", Assert.IsType<NatsGrainStorage>(orders).Name);
        Assert.Same(provider.GetRequiredKeyedService<IGrainStorage>("Default"), provider.GetRequiredService<IGrainStorage>());
        var state = new GrainState<TestState1>(new TestState1 { A = "di" });
        await orders.WriteStateAsync("s", TestIds.Integer(1), state);
        Assert.NotNull(state.ETag);
    }

    [Fact]
    public async Task Missing_service_id_and_sub_second_TTLs_fail_validation_naming_the_problem()
    {
        await using var connection = GrainsTestHost.UnusedConnection();
        var services = new ServiceCollection().AddSingleton<INatsConnection>(connection);
        services.AddNatsGrainStorage("bad", o => o.DefaultStateTtl = TimeSpan.FromMilliseconds(500));
        await using var provider = services.BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptionsMonitor<NatsGrainStorageOptions>>().Get("bad"));
        Assert.Contains(ex.Failures, f => f.Contains("ServiceId"));
        Assert.Contains(ex.Failures, f => f.Contains("DefaultStateTtl"));
    }

    [Fact]
    public async Task Serializer_comes_from_options_then_keyed_then_unkeyed()
    {
        var keyed = new NatsJsonGrainStorageSerializer();
        await using var connection = GrainsTestHost.UnusedConnection();
        var services = new ServiceCollection().AddSingleton<INatsConnection>(connection);
        services.AddKeyedSingleton<IGrainStorageSerializer>("a", keyed);
        services.AddNatsGrainStorage("a", o => o.ServiceId = "s");
        await using var provider = services.BuildServiceProvider();
        Assert.NotNull(provider.GetRequiredKeyedService<NatsGrainStorage>("a"));
    }

    [Fact]
    public async Task Reminder_table_binds_from_configuration_and_watcher_runs_as_hosted_service()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Reminders:ServiceId"] = host.ServiceId,
            ["Reminders:HashPrefixDepth"] = "2",
        }).Build();
        var services = new ServiceCollection().AddSingleton<INatsConnection>(host.Connection);
        services.AddNatsReminderTable(config.GetSection("Reminders"));
        services.AddNatsGrainStorage("Default", o => o.ServiceId = host.ServiceId);
        services.AddNatsGrainStateWatcher("Default");
        await using var provider = services.BuildServiceProvider();
        var table = provider.GetRequiredService<IReminderTable>();
        Assert.Equal(2, provider.GetRequiredService<IOptions<NatsReminderTableOptions>>().Value.HashPrefixDepth);
        await table.StartAsync();
        var etag = await table.UpsertRow(new ReminderEntry { GrainId = TestIds.Integer(1), ReminderName = "r", Period = TimeSpan.FromMinutes(1) });
        Assert.NotNull(etag);
        var hosted = Assert.Single(provider.GetServices<IHostedService>());
        await hosted.StartAsync(default);
        await hosted.StopAsync(default);
    }

    [Fact]
    public async Task Reminder_depth_out_of_range_fails_validation()
    {
        await using var connection = GrainsTestHost.UnusedConnection();
        var services = new ServiceCollection().AddSingleton<INatsConnection>(connection);
        services.AddNatsReminderTable(o =>
        {
            o.ServiceId = "s";
            o.HashPrefixDepth = 9;
        });
        await using var provider = services.BuildServiceProvider();
        Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<NatsReminderTable>());
    }
}

using Orleans;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NATS.Client.Core;

namespace CacheProvider.Grains.Tests.Hosting;

/// <summary>DI registration in the Orleans provider style: keyed by name, configuration validators, ServiceId from ClusterOptions, serializer lookup.</summary>
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
        var participants = provider.GetServices<ILifecycleParticipant<ISiloLifecycle>>().ToList();
        Assert.Contains((ILifecycleParticipant<ISiloLifecycle>)orders, participants);
        Assert.Contains((ILifecycleParticipant<ISiloLifecycle>)provider.GetRequiredService<IGrainStorage>(), participants);
        var state = new GrainState<TestState1>(new TestState1 { A = "di" });
        await orders.WriteStateAsync("s", TestIds.Integer(1), state);
        Assert.NotNull(state.ETag);
    }

    [Fact]
    public async Task Sub_second_TTLs_and_a_bad_bucket_fail_the_silo_configuration_validator_naming_provider_and_settings()
    {
        await using var connection = GrainsTestHost.UnusedConnection();
        var services = new ServiceCollection().AddSingleton<INatsConnection>(connection);
        services.AddNatsGrainStorage("good", o => o.DefaultStateTtl = TimeSpan.FromSeconds(1));
        services.AddNatsGrainStorage("bad", o =>
        {
            o.DefaultStateTtl = TimeSpan.FromMilliseconds(500);
            o.StateTtls["cart"] = TimeSpan.Zero;
            o.Bucket = "no.dots";
        });
        await using var provider = services.BuildServiceProvider();
        var validators = provider.GetServices<IConfigurationValidator>().ToList();
        var failures = validators.Select(v => Record.Exception(v.ValidateConfiguration)).Where(e => e is not null).ToList();
        var ex = Assert.IsType<OrleansConfigurationException>(Assert.Single(failures));
        Assert.Contains("'bad'", ex.Message);
        Assert.Contains("DefaultStateTtl", ex.Message);
        Assert.Contains("StateTtls['cart']", ex.Message);
        Assert.Contains("Bucket", ex.Message);
    }

    [Fact]
    public async Task Empty_service_id_is_the_cluster_service_id_and_an_explicit_one_wins()
    {
        await using var connection = GrainsTestHost.UnusedConnection();
        var services = new ServiceCollection().AddSingleton<INatsConnection>(connection);
        services.Configure<ClusterOptions>(o => o.ServiceId = "shop");
        services.AddNatsGrainStorage("implicit");
        services.AddNatsGrainStorage("explicit", o => o.ServiceId = "other");
        services.UseNatsReminderService(configureOptions: null);
        await using var provider = services.BuildServiceProvider();
        Assert.Equal("shop", provider.GetRequiredKeyedService<NatsGrainStorage>("implicit").ServiceId);
        Assert.Equal("other", provider.GetRequiredKeyedService<NatsGrainStorage>("explicit").ServiceId);
        Assert.StartsWith("shop.", provider.GetRequiredKeyedService<NatsGrainStorage>("implicit").GetStateKey("s", TestIds.Integer(1)));
        Assert.Equal("shop", provider.GetRequiredService<IOptions<NatsReminderTableOptions>>().Value.ServiceId);
    }

    [Fact]
    public async Task Serializer_comes_from_options_then_keyed_by_provider_name_then_unkeyed_then_System_Text_Json()
    {
        var fromOptions = new NatsJsonGrainStorageSerializer();
        var keyed = new NatsJsonGrainStorageSerializer();
        var unkeyed = new NatsJsonGrainStorageSerializer();
        await using var connection = GrainsTestHost.UnusedConnection();
        var services = new ServiceCollection().AddSingleton<INatsConnection>(connection);
        services.AddKeyedSingleton<IGrainStorageSerializer>("keyed", keyed);
        services.AddNatsGrainStorage("options", o => o.GrainStorageSerializer = fromOptions);
        services.AddNatsGrainStorage("keyed");
        services.AddNatsGrainStorage("plain");
        await using (var provider = services.BuildServiceProvider())
        {
            Assert.Same(fromOptions, provider.GetRequiredKeyedService<NatsGrainStorage>("options").Serializer);
            Assert.Same(keyed, provider.GetRequiredKeyedService<NatsGrainStorage>("keyed").Serializer);
            Assert.IsType<NatsJsonGrainStorageSerializer>(provider.GetRequiredKeyedService<NatsGrainStorage>("plain").Serializer);
        }

        services.AddSingleton<IGrainStorageSerializer>(unkeyed);
        await using (var provider = services.BuildServiceProvider())
        {
            Assert.Same(keyed, provider.GetRequiredKeyedService<NatsGrainStorage>("keyed").Serializer);
            Assert.Same(unkeyed, provider.GetRequiredKeyedService<NatsGrainStorage>("plain").Serializer);
        }
    }

    [Fact]
    public async Task Reminder_table_binds_from_configuration_and_is_the_IReminderTable()
    {
        await using var host = await GrainsTestHost.StartAsync(output);
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Reminders:ServiceId"] = host.ServiceId,
            ["Reminders:HashPrefixDepth"] = "2",
        }).Build();
        var services = new ServiceCollection().AddSingleton<INatsConnection>(host.Connection);
        services.UseNatsReminderService(config.GetSection("Reminders"));
        await using var provider = services.BuildServiceProvider();
        var table = provider.GetRequiredService<IReminderTable>();
        Assert.Same(provider.GetRequiredService<NatsReminderTable>(), table);
        Assert.Equal(2, provider.GetRequiredService<IOptions<NatsReminderTableOptions>>().Value.HashPrefixDepth);
        await table.StartAsync();
        var etag = await table.UpsertRow(new ReminderEntry { GrainId = TestIds.Integer(1), ReminderName = "r", Period = TimeSpan.FromMinutes(1) });
        Assert.NotNull(etag);
    }

    [Fact]
    public async Task Reminder_depth_out_of_range_fails_the_silo_configuration_validator()
    {
        await using var connection = GrainsTestHost.UnusedConnection();
        var services = new ServiceCollection().AddLogging().AddSingleton<INatsConnection>(connection);
        services.UseNatsReminderService(o =>
        {
            o.ServiceId = "s";
            o.HashPrefixDepth = 9;
        });
        await using var provider = services.BuildServiceProvider();
        var ours = provider.GetServices<IConfigurationValidator>().OfType<CacheProvider.Grains.Hosting.NatsOptionsValidator<NatsReminderTableOptions>>();
        var ex = Assert.Throws<OrleansConfigurationException>(() => Assert.Single(ours).ValidateConfiguration());
        Assert.Contains("HashPrefixDepth", ex.Message);
    }
}

using CacheProvider.Grains.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using NATS.Client.Core;
using Orleans.Hosting;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace CacheProvider.Grains.Tests.Silo;

/// <summary>Provider options are checked by Orleans' configuration validators when the silo starts.</summary>
public sealed class SiloValidationTests
{
    [Fact]
    public async Task A_silo_with_a_sub_second_state_TTL_does_not_start_and_says_which_provider_and_setting()
    {
        await using var connection = GrainsTestHost.UnusedConnection();
        var builder = new InProcessTestClusterBuilder(1);
        builder.Options.InitializeClientOnDeploy = false;
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<INatsConnection>(connection);
            silo.AddNatsGrainStorage("broken", o => o.DefaultStateTtl = TimeSpan.FromMilliseconds(500));
        });
        var cluster = builder.Build();
        try
        {
            var ex = await Record.ExceptionAsync(() => cluster.DeployAsync());
            var configuration = Find<OrleansConfigurationException>(ex);
            Assert.NotNull(configuration);
            Assert.Contains("'broken'", configuration.Message);
            Assert.Contains("DefaultStateTtl", configuration.Message);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static T? Find<T>(Exception? ex)
        where T : Exception
    {
        while (ex is not null)
        {
            if (ex is T found)
            {
                return found;
            }

            if (ex is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    if (Find<T>(inner) is { } nested)
                    {
                        return nested;
                    }
                }
            }

            ex = ex.InnerException;
        }

        return null;
    }
}

using CacheProvider.Clustering.Tests.Support;
using CacheProvider.Connection;
using CacheProvider.KeyValue;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Hosting;
using Orleans.TestingHost;

namespace CacheProvider.Clustering.Tests.Silo;

/// <summary>A silo refuses to start on a clustering bucket that would expire its rows.</summary>
public sealed class BucketCheckTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_silo_does_not_start_on_a_bucket_with_a_max_age_and_says_what_to_change()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using (var connection = await server.ConnectAsync())
        {
            await new KvContext(connection).CreateBucketAsync(new KvBucketConfig { Bucket = "aging", MaxAge = TimeSpan.FromHours(1) });
        }

        var builder = new InProcessTestClusterBuilder(1).WithoutTestMembership();
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddNatsConnection(o => o.Url = server.Url);
            silo.UseNatsClustering(o => o.Bucket = "aging");
        });
        builder.ConfigureClient(client => client.UseNatsClustering(o => o.Bucket = "aging"));
        var cluster = builder.Build();
        try
        {
            var error = await Assert.ThrowsAnyAsync<Exception>(() => cluster.DeployAsync());
            var message = Flatten(error);
            output.WriteLine(message);
            Assert.Contains("max age", message, StringComparison.Ordinal);
            Assert.Contains("aging", message, StringComparison.Ordinal);
        }
        finally
        {
            await cluster.DisposeAsync();
        }
    }

    private static string Flatten(Exception error)
    {
        var text = new System.Text.StringBuilder();
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            text.AppendLine(e.Message);
            if (e is AggregateException aggregate)
            {
                foreach (var inner in aggregate.InnerExceptions)
                {
                    text.AppendLine(Flatten(inner));
                }
            }
        }

        return text.ToString();
    }
}

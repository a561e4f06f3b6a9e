using CacheProvider.Clustering.Tests.Support;
using CacheProvider.Grains;
using NATS.Client.Core;
using Orleans;
using Orleans.Runtime;

namespace CacheProvider.Clustering.Tests.Clustering;

/// <summary>
/// Writes whose replies are lost to a stalled server: true only when stored, false only when nothing is stored (the
/// table fences the version first), an exception when unknown.
/// </summary>
[Collection(SerialCollection.Name)]
public sealed class MembershipTableOutageTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_update_during_a_server_stall_answers_true_only_if_stored_and_false_only_if_not()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using var connection = new NatsConnection(TestNats.Options(server.Url) with { RequestTimeout = TimeSpan.FromMilliseconds(700) });
        await connection.ConnectAsync();
        var table = Rows.NewTable(connection);
        await table.InitializeMembershipTableAsync(true);

        var outcomes = new List<string>();
        for (var round = 0; round < 4; round++)
        {
            var row = Rows.New();
            await Rows.InsertAsync(table, row);
            var before = await table.ReadRowAsync(row.SiloAddress);
            var (current, etag) = before.Members.Single();
            current.Status = SiloStatus.Active;

            var update = Task.Run(() => table.UpdateRowAsync(current, etag, before.Version.Next()));
            await Task.Delay(round * 2); // vary where in the batch the stall lands
            server.Pause();
            await Task.Delay(1200);
            server.Resume();

            bool? answer = null;
            try
            {
                answer = await update;
            }
            catch (NatsClusteringException ex)
            {
                output.WriteLine(ex.Message);
            }

            var after = await table.ReadRowAsync(row.SiloAddress);
            var stored = after.Members.Single().Item1.Status == SiloStatus.Active;
            outcomes.Add($"answer={answer?.ToString() ?? "unknown"} stored={stored}");
            if (answer == false)
            {
                Assert.False(stored);
                Assert.Equal(before.Version.Version, after.Version.Version);
            }

            if (answer == true)
            {
                Assert.True(stored);
                Assert.Equal(before.Version.Version + 1, after.Version.Version);
            }
        }

        output.WriteLine(string.Join(Environment.NewLine, outcomes));
    }
}

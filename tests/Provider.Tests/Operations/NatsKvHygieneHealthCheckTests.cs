using CacheProvider.KeyValue;
using CacheProvider.Operations;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using NATS.Client.Core;

namespace CacheProvider.Tests.Operations;

public sealed class NatsKvHygieneHealthCheckTests(ITestOutputHelper output)
{
    private static ServiceProvider Services(string url, Action<IHealthChecksBuilder> add)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<INatsConnection>(_ => new NatsConnection(TestNats.Options(url) with { MaxReconnectRetry = 0, ConnectTimeout = TimeSpan.FromSeconds(1) }));
        add(services.AddHealthChecks());
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task Healthy_for_clean_buckets_Degraded_with_the_findings_for_misconfigured_ones()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using (var nats = await server.ConnectAsync())
        {
            var kv = new KvContext(nats);
            var clean = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "cache", LimitMarkerTtl = TimeSpan.FromSeconds(1) });
            await clean.PutAsync("a", "v"u8.ToArray(), TimeSpan.FromMinutes(1));
            var bad = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "sessions" });
            for (var i = 0; i < 12; i++)
            {
                await bad.PutAsync($"s{i}", "v"u8.ToArray());
                await bad.DeleteAsync($"s{i}");
            }
        }

        await using (var sp = Services(server.Url, h => h.AddNatsKvHygiene("cache", "not-created-yet")))
        {
            var report = await sp.GetRequiredService<HealthCheckService>().CheckHealthAsync();
            var entry = report.Entries["nats-kv-hygiene"];
            Assert.Equal(HealthStatus.Healthy, entry.Status);
            Assert.Equal("missing", entry.Data["not-created-yet"]);
        }

        var thresholds = KvAuditThresholds.Default with { PermanentTombstones = 10 };
        await using (var sp = Services(server.Url, h => h.AddNatsKvHygiene("hygiene", thresholds, "cache", "sessions")))
        {
            var service = sp.GetRequiredService<HealthCheckService>();
            var entry = (await service.CheckHealthAsync()).Entries["hygiene"];
            output.WriteLine(entry.Description);
            Assert.Equal(HealthStatus.Degraded, entry.Status);
            Assert.Contains("sessions: permanent-tombstones (Warning)", entry.Description);
            Assert.DoesNotContain("cache:", entry.Description);
            Assert.Contains("kv-doctor fix sessions", (string)entry.Data["finding0"]);

            // Same instance between runs: the result is reused for a minute.
            Assert.Same(sp.GetRequiredKeyedService<NatsKvHygieneHealthCheck>("hygiene"), sp.GetRequiredKeyedService<NatsKvHygieneHealthCheck>("hygiene"));
        }
    }

    [Fact]
    public async Task Markers_off_degrades_a_bucket_whose_keys_expire_and_is_only_a_note_where_nothing_expires()
    {
        await using var server = await NatsServer.StartAsync(output);
        await using (var nats = await server.ConnectAsync())
        {
            var kv = new KvContext(nats);
            var expiring = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "expiring", AllowMsgTtl = true });
            await expiring.PutAsync("a", "v"u8.ToArray(), TimeSpan.FromMinutes(5));
            var plain = await kv.CreateBucketAsync(new KvBucketConfig { Bucket = "plain" });
            await plain.PutAsync("a", "v"u8.ToArray());
        }

        await using (var sp = Services(server.Url, h => h.AddNatsKvHygiene("plain")))
        {
            var entry = (await sp.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["nats-kv-hygiene"];
            output.WriteLine(entry.Description);
            Assert.Equal(HealthStatus.Healthy, entry.Status);
            Assert.Contains("plain: markers-off (Info)", entry.Description);
        }

        await using (var sp = Services(server.Url, h => h.AddNatsKvHygiene("expiring", "plain")))
        {
            var entry = (await sp.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["nats-kv-hygiene"];
            output.WriteLine(entry.Description);
            Assert.Equal(HealthStatus.Degraded, entry.Status);
            Assert.Contains("expiring: markers-off (Warning)", entry.Description);
            Assert.Contains("kv-doctor fix expiring --marker-ttl 2s", (string)entry.Data["finding0"]);
        }
    }

    [Fact]
    public async Task Unreachable_server_reports_the_failure_status()
    {
        await using var sp = Services($"nats://127.0.0.1:{NatsServer.FreePort()}", h => h.AddNatsKvHygiene("cache"));
        var entry = (await sp.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["nats-kv-hygiene"];
        Assert.Equal(HealthStatus.Unhealthy, entry.Status);
        Assert.Contains("unreachable", entry.Description);
    }
}

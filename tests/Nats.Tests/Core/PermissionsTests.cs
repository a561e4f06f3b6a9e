using System.Text;

namespace CacheProvider.Nats.Tests.Core;

public sealed class PermissionsTests(ITestOutputHelper output)
{
    private const string Config = """
        authorization {
          users = [
            {
              user: limited, password: pw
              permissions: {
                publish: { deny: ["secret.>"] }
                subscribe: { deny: ["secret.>", "vault"] }
              }
            }
          ]
        }
        """;

    [Fact]
    public async Task Forbidden_subscription_completes_its_channel_with_permission_exception_and_the_connection_stays_up()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = Connect(server);
        await using var allowed = await nats.SubscribeAsync("public.news");
        await using var forbidden = await nats.SubscribeAsync("secret.>");
        await nats.FlushAsync();

        var error = await Assert.ThrowsAsync<NatsPermissionException>(() => forbidden.Messages.Completion.Within());

        Assert.Equal("secret.>", error.Subject);
        Assert.StartsWith("Sub", error.Operation, StringComparison.Ordinal);
        Assert.Equal(NatsConnectionState.Connected, nats.State);
        await nats.PublishAsync("public.news", "still here"u8.ToArray());
        Assert.Equal("still here", Encoding.UTF8.GetString((await allowed.NextAsync()).Data.Span));
        Assert.Equal(0, nats.Reconnects);
    }

    [Fact]
    public async Task Forbidden_queue_subscription_fails_only_that_subscription()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = Connect(server);
        await using var forbidden = await nats.SubscribeAsync("vault", queueGroup: "q");
        await using var allowed = await nats.SubscribeAsync("vault.open", queueGroup: "q");
        await nats.FlushAsync();

        await Assert.ThrowsAsync<NatsPermissionException>(() => forbidden.Messages.Completion.Within());

        await nats.PublishAsync("vault.open", "y"u8.ToArray());
        await allowed.NextAsync();
        Assert.False(allowed.Messages.Completion.IsCompleted);
    }

    [Fact]
    public async Task Request_to_a_forbidden_subject_throws_permission_exception_and_other_requests_work()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = Connect(server);
        await using var service = await nats.SubscribeAsync("public.svc");
        await nats.FlushAsync();
        _ = Task.Run(async () =>
        {
            await foreach (var m in service.ReadAllAsync())
            {
                await nats.PublishAsync(m.ReplyTo!, "served"u8.ToArray());
            }
        });

        var error = await Assert.ThrowsAsync<NatsPermissionException>(
            () => nats.RequestAsync("secret.svc", timeout: TimeSpan.FromMinutes(5)).AsTask().Within());

        Assert.Equal("secret.svc", error.Subject);
        Assert.StartsWith("Pub", error.Operation, StringComparison.Ordinal);
        Assert.Equal(NatsConnectionState.Connected, nats.State);
        var reply = await nats.RequestAsync("public.svc").AsTask().Within();
        Assert.Equal("served", Encoding.UTF8.GetString(reply.Data.Span));
    }

    [Fact]
    public async Task Forbidden_publish_raises_the_error_event_and_the_connection_stays_up()
    {
        await using var server = await NatsServer.StartAsync(output, Config, jetStream: false);
        await using var nats = Connect(server);
        var refused = Test.Signal<NatsPermissionException>();
        nats.Error += (_, e) =>
        {
            if (e.Error is NatsPermissionException p)
            {
                refused.TrySetResult(p);
            }
        };
        await nats.ConnectAsync();

        await nats.PublishAsync("secret.plans", "x"u8.ToArray());

        var error = await refused.Task.Within();
        Assert.Equal("secret.plans", error.Subject);
        Assert.Equal(NatsConnectionState.Connected, nats.State);
        await nats.FlushAsync().Within();
    }

    private static NatsConnection Connect(NatsServer server) =>
        new(Test.Options(server.Url) with { User = "limited", Password = "pw" });
}

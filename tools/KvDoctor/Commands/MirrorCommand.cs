using System.CommandLine;
using CacheProvider.KvDoctor.Audit;
using CacheProvider.KeyValue;

namespace CacheProvider.KvDoctor.Commands;

/// <summary><c>mirror add &lt;origin&gt; &lt;mirror&gt;</c>: a mirror that expires TTL'd values and markers like its origin.</summary>
internal static class MirrorCommand
{
    public static Command Create(ToolIo io, ConnectionFlags connection)
    {
        var origin = new Argument<string>("origin") { Description = "Bucket to mirror" };
        var mirror = new Argument<string>("mirror") { Description = "New mirror bucket" };
        var add = new Command("add", "Create a TTL-correct mirror (allow_msg_ttl on, origin's history, max_age and storage)") { origin, mirror };
        add.SetAction((parse, ct) => Runner.RunAsync(io, connection, parse, async nats =>
        {
            var kv = new KvContext(nats);
            var originName = parse.GetValue(origin)!;
            var mirrorName = parse.GetValue(mirror)!;
            if (originName == mirrorName)
            {
                throw new UsageException("origin and mirror must be different buckets");
            }

            var source = await AuditRunner.BindAsync(kv, originName, ct).ConfigureAwait(false);
            var status = await source.GetStatusAsync(ct).ConfigureAwait(false);
            if (status.IsMirror)
            {
                throw new UsageException($"'{originName}' is itself a mirror (of {status.MirrorOrigin}); mirror the origin instead");
            }

            KvBucket created;
            try
            {
                created = await kv.CreateBucketAsync(new KvBucketConfig
                {
                    Bucket = mirrorName,
                    Description = $"TTL-correct mirror of {originName} (kv-doctor)",
                    History = (int)Math.Clamp(status.History, 1, 64),
                    MaxAge = status.MaxAge,
                    Storage = status.Storage,
                    Replicas = status.Replicas,
                    AllowMsgTtl = true,
                    Mirror = new KvMirror { Bucket = originName },
                }, ct).ConfigureAwait(false);
            }
            catch (ArgumentException ex)
            {
                throw new UsageException($"'{mirrorName}' is not a valid bucket name: {ex.Message}");
            }

            await io.Out.WriteLineAsync($"Created {created.Bucket}: mirror of {originName}, allow_msg_ttl=true, history={created.History}, max_age={Durations.Format(status.MaxAge)}.").ConfigureAwait(false);
            await io.Out.WriteLineAsync($"Readers of the mirror use the origin's key prefix ($KV.{originName}.<key>); writes go to the origin.").ConfigureAwait(false);
            return ExitCodes.Ok;
        }, ct));
        return new Command("mirror", "Manage KV mirrors") { add };
    }
}

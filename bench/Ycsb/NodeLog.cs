namespace CacheProvider.Bench.Ycsb;

/// <summary>An acknowledged (or failed: <see cref="AckTs"/> 0) Set: which key, which value id, when it started and was acknowledged.</summary>
internal readonly record struct WriteRecord(int Key, long Id, long StartTs, long AckTs);

/// <summary>A Get: which key, the id of the value it returned (-1: miss), when it started.</summary>
internal readonly record struct ReadRecord(int Key, long Id, long StartTs);

/// <summary>A change by the other node seen by this node's bucket watch: which key, when.</summary>
internal readonly record struct ChangeRecord(int Key, long Ts);

/// <summary>
/// What a node process hands the coordinator, through a file: every operation with its timestamps. Timestamps are
/// <see cref="System.Diagnostics.Stopwatch"/> ticks, i.e. CLOCK_MONOTONIC on Linux, which both node processes on this
/// machine share, so one node's acknowledgement can be compared with the other node's read.
/// </summary>
internal sealed class NodeLog
{
    public List<WriteRecord> Writes { get; } = [];

    public List<ReadRecord> Reads { get; } = [];

    public List<ChangeRecord> Changes { get; } = [];

    public List<long> LatencyTicks { get; } = [];

    public long Errors { get; set; }

    public long Misses { get; set; }

    public double Seconds { get; set; }

    public void Save(string path)
    {
        using var writer = new BinaryWriter(File.Create(path));
        writer.Write(Seconds);
        writer.Write(Errors);
        writer.Write(Misses);
        writer.Write(Writes.Count);
        foreach (var w in Writes)
        {
            writer.Write(w.Key);
            writer.Write(w.Id);
            writer.Write(w.StartTs);
            writer.Write(w.AckTs);
        }

        writer.Write(Reads.Count);
        foreach (var r in Reads)
        {
            writer.Write(r.Key);
            writer.Write(r.Id);
            writer.Write(r.StartTs);
        }

        writer.Write(Changes.Count);
        foreach (var c in Changes)
        {
            writer.Write(c.Key);
            writer.Write(c.Ts);
        }

        writer.Write(LatencyTicks.Count);
        foreach (var l in LatencyTicks)
        {
            writer.Write(l);
        }
    }

    public static NodeLog Load(string path)
    {
        using var reader = new BinaryReader(File.OpenRead(path));
        var log = new NodeLog { Seconds = reader.ReadDouble(), Errors = reader.ReadInt64(), Misses = reader.ReadInt64() };
        for (var n = reader.ReadInt32(); n > 0; n--)
        {
            log.Writes.Add(new WriteRecord(reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64()));
        }

        for (var n = reader.ReadInt32(); n > 0; n--)
        {
            log.Reads.Add(new ReadRecord(reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64()));
        }

        for (var n = reader.ReadInt32(); n > 0; n--)
        {
            log.Changes.Add(new ChangeRecord(reader.ReadInt32(), reader.ReadInt64()));
        }

        for (var n = reader.ReadInt32(); n > 0; n--)
        {
            log.LatencyTicks.Add(reader.ReadInt64());
        }

        return log;
    }
}

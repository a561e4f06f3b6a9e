using System.Globalization;
using CacheProvider.Bench.Ycsb;

// ./build.sh bench ycsb [--seconds N] [--reps R] [--records N] [--workload a|b|ab]: a YCSB-style two-node workload
// (see Workload.cs); the same executable runs as a node with --node (started by the coordinator, never by hand).
try
{
    if (args.Length > 0 && args[0] == "--node")
    {
        return await Node.RunAsync(ParseNode(args)).ConfigureAwait(false);
    }

    var seconds = 10.0;
    var reps = 2;
    var records = 100_000;
    var workloads = new List<Workload> { Workload.B, Workload.A };
    for (var i = 0; i < args.Length; i++)
    {
        switch (args[i])
        {
            case "--seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0:
                seconds = s;
                i++;
                break;
            case "--reps" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r is > 0 and <= 20:
                reps = r;
                i++;
                break;
            case "--records" when i + 1 < args.Length && int.TryParse(args[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 100:
                records = n;
                i++;
                break;
            case "--workload" when i + 1 < args.Length:
                workloads = args[++i].Select(c => Workload.Parse(c.ToString())).ToList();
                break;
            default:
                Console.Error.WriteLine("usage: bench ycsb [--seconds N] [--reps 1..20] [--records N>=100] [--workload a|b|ab]");
                return 2;
        }
    }

    return await Coordinator.RunAsync(new YcsbSettings(seconds, reps, records, workloads, InFlight: 64)).ConfigureAwait(false);
}
catch (Exception ex)
{
    // A benchmark never dies on an unhandled exception: it says what failed.
    Console.WriteLine($"ycsb: error={ex.GetType().Name}: {ex.Message.ReplaceLineEndings(" ")}");
    return 1;
}

static NodeSettings ParseNode(string[] args)
{
    string Arg(string name) => args[Array.IndexOf(args, name) + 1];
    return new NodeSettings(
        int.Parse(Arg("--node"), CultureInfo.InvariantCulture),
        Enum.Parse<StoreKind>(Arg("--kind")),
        Arg("--nats"),
        Arg("--redis"),
        int.Parse(Arg("--records"), CultureInfo.InvariantCulture),
        Workload.Parse(Arg("--workload")),
        double.Parse(Arg("--seconds"), CultureInfo.InvariantCulture),
        int.Parse(Arg("--inflight"), CultureInfo.InvariantCulture),
        Arg("--preload") == "1",
        Arg("--out"));
}

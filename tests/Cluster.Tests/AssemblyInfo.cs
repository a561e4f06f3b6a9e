// Each test runs its own 3-node cluster and kills nodes: run them one at a time, so elections and timeouts are not
// stretched by several clusters competing for a small machine's cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace CacheProvider.Samples.Expiry;

/// <summary>The closing table: every expiry the demo saw and how late it came after its deadline.</summary>
internal static class Summary
{
    public static void Print(Report report, IReadOnlyList<ExpiryResult> results)
    {
        report.Heading("Summary - every expiry, and how long after its deadline the server's marker came");
        report.Plain($"  {"part",-7} {"key / subject",-18} {"TTL",-5} {"from",-9} {"reason",-8} {"due",-9} {"marker",-9} {"late",8}");
        foreach (var r in results)
        {
            report.Plain($"  {r.Part,-7} {r.Name,-18} {Report.Seconds(r.Ttl),-5} {r.TtlSource,-9} {r.Reason,-8} {report.Rel(r.Deadline),-9} {report.Rel(r.MarkerAt),-9} {Report.Ms(r.Lateness),8}");
        }

        if (results.Count > 0)
        {
            var worst = results.Max(r => r.Lateness);
            var mean = TimeSpan.FromTicks((long)results.Average(r => r.Lateness.Ticks));
            report.Plain("");
            report.Plain($"  {results.Count} expiries, none early; late by {Report.Ms(mean).Trim()} on average, {Report.Ms(worst).Trim()} at most");
            report.Plain("  (the server sweeps expired messages about every 250 ms, so 0-250 ms late is normal)");
        }
    }
}

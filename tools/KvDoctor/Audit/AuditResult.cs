using CacheProvider.Operations;

namespace CacheProvider.KvDoctor.Audit;

/// <summary>Everything one <c>audit</c> run found.</summary>
/// <param name="Server">Server URL actually connected to.</param>
/// <param name="ServerVersion">Server version.</param>
/// <param name="ServerFindings">Findings about the server itself.</param>
/// <param name="Buckets">One report per bucket, by name.</param>
public sealed record AuditResult(string Server, Version ServerVersion, IReadOnlyList<KvFinding> ServerFindings, IReadOnlyList<KvBucketReport> Buckets)
{
    /// <summary>Server and bucket findings together, worst first.</summary>
    public IEnumerable<KvFinding> AllFindings => ServerFindings.Concat(Buckets.SelectMany(b => b.Findings)).OrderByDescending(f => f.Severity);
}

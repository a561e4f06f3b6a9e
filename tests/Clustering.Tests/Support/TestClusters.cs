using System.Reflection;
using Orleans.TestingHost;

namespace CacheProvider.Clustering.Tests.Support;

/// <summary>Test-cluster set-up the TestingHost does not expose publicly.</summary>
internal static class TestClusters
{
    /// <summary>
    /// Turns off the in-process test membership (and its directory) the InProcessTestCluster otherwise installs over any
    /// clustering the silos configure. The switch exists in TestingHost 10.4.2 but its setter is internal; the test fails
    /// loudly if a later version renames it.
    /// </summary>
    public static InProcessTestClusterBuilder WithoutTestMembership(this InProcessTestClusterBuilder builder)
    {
        foreach (var name in new[] { "UseTestClusterMembership", "UseTestClusterGrainDirectory" })
        {
            var property = typeof(InProcessTestClusterOptions).GetProperty(name, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
                ?? throw new InvalidOperationException($"InProcessTestClusterOptions.{name} is gone: update this helper");
            property.SetValue(builder.Options, false);
        }

        return builder;
    }
}

using System.Net;
using CacheProvider.Clustering.Tests.Support;
using CacheProvider.Grains;
using Orleans.Configuration;
using Orleans.Runtime;

namespace CacheProvider.Clustering.Tests.GrainDirectory;

/// <summary>The grain directory contract as Orleans' own directory tests state it, re-written against a real nats-server.</summary>
public sealed class GrainDirectoryConformanceTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly SiloAddress Silo = SiloAddress.New(IPAddress.Parse("10.0.23.12"), 1000, 5678);
    private static readonly SiloAddress OtherSilo = SiloAddress.New(IPAddress.Parse("10.0.23.14"), 1000, 5678);

    private readonly NatsGrainDirectory _directory = new(
        "default",
        new NatsGrainDirectoryOptions(),
        new ClusterOptions { ServiceId = "svc", ClusterId = "dir-" + Guid.NewGuid().ToString("N") },
        fixture.Connection);

    private static GrainAddress Address(GrainId grain, SiloAddress? silo = null) => new()
    {
        GrainId = grain,
        ActivationId = ActivationId.NewId(),
        SiloAddress = silo ?? Silo,
        MembershipVersion = new MembershipVersion(51),
    };

    private static GrainId NewGrain() => GrainId.Create("user", "someone." + Guid.NewGuid().ToString("N") + " *>");

    [Fact]
    public async Task Register_lookup_unregister_lookup()
    {
        var entry = Address(NewGrain());
        Assert.Equal(entry, await _directory.Register(entry, null));
        Assert.Equal(entry, await _directory.Lookup(entry.GrainId));
        await _directory.Unregister(entry);
        Assert.Null(await _directory.Lookup(entry.GrainId));
    }

    [Fact]
    public async Task Register_never_overwrites_a_live_entry()
    {
        var entry = Address(NewGrain());
        Assert.Equal(entry, await _directory.Register(entry, null));

        var otherActivation = Address(entry.GrainId);
        var sameActivationElsewhere = new GrainAddress { GrainId = entry.GrainId, ActivationId = entry.ActivationId, SiloAddress = OtherSilo, MembershipVersion = entry.MembershipVersion };
        Assert.Equal(entry, await _directory.Register(otherActivation, null));
        Assert.Equal(entry, await _directory.Register(sameActivationElsewhere, null));
        Assert.Equal(entry, await _directory.Lookup(entry.GrainId));
    }

    [Fact]
    public async Task Register_with_a_previous_address_replaces_only_that_entry()
    {
        var grain = NewGrain();
        var initial = Address(grain);
        Assert.Equal(initial, await _directory.Register(initial, Address(grain, OtherSilo))); // nothing there yet: registered

        var replacement = Address(grain, OtherSilo);
        Assert.Equal(replacement, await _directory.Register(replacement, initial));
        Assert.Equal(replacement, await _directory.Lookup(grain));

        var late = Address(grain);
        Assert.Equal(replacement, await _directory.Register(late, initial)); // stale previous: the current entry stays
        Assert.Equal(replacement, await _directory.Lookup(grain));
    }

    [Fact]
    public async Task Unregister_with_another_activation_id_keeps_the_entry()
    {
        var entry = Address(NewGrain());
        await _directory.Register(entry, null);
        await _directory.Unregister(Address(entry.GrainId));
        Assert.Equal(entry, await _directory.Lookup(entry.GrainId));
    }

    [Fact]
    public async Task Lookup_of_an_unknown_grain_is_null() =>
        Assert.Null(await _directory.Lookup(NewGrain()));

    [Fact]
    public async Task Concurrent_registrations_of_one_grain_agree_on_one_winner()
    {
        var grain = NewGrain();
        var candidates = Enumerable.Range(0, 16).Select(_ => Address(grain)).ToList();
        var results = await Task.WhenAll(candidates.Select(c => Task.Run(() => _directory.Register(c, null))));
        var winner = Assert.Single(results.Distinct());
        Assert.Contains(winner, candidates);
        Assert.Equal(winner, await _directory.Lookup(grain));
    }

    [Fact]
    public async Task Re_registering_after_unregister_writes_over_the_tombstone()
    {
        var entry = Address(NewGrain());
        await _directory.Register(entry, null);
        await _directory.Unregister(entry);
        var next = Address(entry.GrainId);
        Assert.Equal(next, await _directory.Register(next, null));
        Assert.Equal(next, await _directory.Lookup(entry.GrainId));
    }
}

using Orleans;
using Orleans.Messaging;
using Orleans.Runtime;

namespace CacheProvider.Grains;

/// <summary>
/// Orleans' <see cref="IGatewayListProvider"/> for clients of a NATS-clustered service: the gateways are the
/// <see cref="SiloStatus.Active"/> silos of the <see cref="NatsMembershipTable"/> that have a gateway (proxy) port.
/// </summary>
public sealed class NatsGatewayListProvider : IGatewayListProvider
{
    private readonly NatsMembershipTable _table;

    /// <summary>Creates the provider on <paramref name="table"/>.</summary>
    /// <param name="table">The membership table of the cluster.</param>
    /// <param name="maxStaleness">How stale the list may be (Orleans' <c>GatewayOptions.GatewayListRefreshPeriod</c>).</param>
    public NatsGatewayListProvider(NatsMembershipTable table, TimeSpan maxStaleness)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        MaxStaleness = maxStaleness;
    }

    /// <inheritdoc />
    public TimeSpan MaxStaleness { get; }

    /// <inheritdoc />
    [Obsolete("Orleans marks this member obsolete; the list is always refreshable.")]
    public bool IsUpdatable => true;

    /// <inheritdoc />
    public Task InitializeGatewayListProvider() => InitializeGatewayListProviderAsync(CancellationToken.None);

    /// <inheritdoc />
    public Task<IList<Uri>> GetGateways() => GetGatewaysAsync(CancellationToken.None);

    /// <summary>Checks the bucket (and the server version); writes nothing.</summary>
    public Task InitializeGatewayListProviderAsync(CancellationToken cancellationToken = default) =>
        _table.InitializeMembershipTableAsync(tryInitTableVersion: false, cancellationToken);

    /// <summary>The gateway URIs of the active silos, from one consistent read of the table.</summary>
    public async Task<IList<Uri>> GetGatewaysAsync(CancellationToken cancellationToken = default)
    {
        var table = await _table.ReadAllAsync(cancellationToken).ConfigureAwait(false);
        var gateways = new List<Uri>();
        foreach (var (row, _) in table.Members)
        {
            if (row.Status == SiloStatus.Active && row.ProxyPort != 0)
            {
                gateways.Add(SiloAddress.New(row.SiloAddress.Endpoint.Address, row.ProxyPort, row.SiloAddress.Generation).ToGatewayUri());
            }
        }

        return gateways;
    }
}

using System.Globalization;
using System.Text;

namespace CacheProvider.Samples.Cluster;

/// <summary>A silo's membership view entry: a member as that silo sees it.</summary>
internal sealed record MemberView(string Address, string Name, string Status);

/// <summary>
/// The lines a silo process writes on stdout for whoever started it (the front end, the tests, the bench), one event a
/// line, each starting with <c>@</c> so they stand out from the log:
/// <c>@ready name=N silo=ADDR join_ms=MS</c> (the silo is Active; MS from the start of the host to Active),
/// <c>@view name=N version=V members=ADDR|NAME|STATUS,…</c> (its membership view changed),
/// <c>@tick grain=KEY silo=N n=K</c> (a reminder tick reached a grain on it).
/// </summary>
internal abstract record SiloEvent
{
    public sealed record Ready(string Name, string Address, double JoinMilliseconds) : SiloEvent;

    public sealed record View(string Name, long Version, IReadOnlyList<MemberView> Members) : SiloEvent;

    public sealed record Tick(string Grain, string Silo, int Count) : SiloEvent;

    public static string FormatReady(string name, string address, TimeSpan join) =>
        $"@ready name={name} silo={address} join_ms={join.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture)}";

    public static string FormatView(string name, long version, IEnumerable<MemberView> members)
    {
        var text = new StringBuilder($"@view name={name} version={version.ToString(CultureInfo.InvariantCulture)} members=");
        var first = true;
        foreach (var m in members)
        {
            text.Append(first ? string.Empty : ",").Append(m.Address).Append('|').Append(m.Name).Append('|').Append(m.Status);
            first = false;
        }

        return text.ToString();
    }

    public static string FormatTick(string grain, string silo, int count) =>
        $"@tick grain={grain} silo={silo} n={count.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The event on <paramref name="line"/>, or null for an ordinary log line.</summary>
    public static SiloEvent? Parse(string line)
    {
        if (!line.StartsWith('@'))
        {
            return null;
        }

        var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in parts.AsSpan(1))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                fields[part[..eq]] = part[(eq + 1)..];
            }
        }

        string Field(string key) => fields.TryGetValue(key, out var v) ? v : string.Empty;
        return parts[0] switch
        {
            "@ready" => new Ready(Field("name"), Field("silo"), double.Parse(Field("join_ms"), CultureInfo.InvariantCulture)),
            "@view" => new View(Field("name"), long.Parse(Field("version"), CultureInfo.InvariantCulture), ParseMembers(Field("members"))),
            "@tick" => new Tick(Field("grain"), Field("silo"), int.Parse(Field("n"), CultureInfo.InvariantCulture)),
            _ => null,
        };
    }

    private static List<MemberView> ParseMembers(string text)
    {
        var members = new List<MemberView>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var p = item.Split('|');
            if (p.Length == 3)
            {
                members.Add(new MemberView(p[0], p[1], p[2]));
            }
        }

        return members;
    }
}

using System.Text;

namespace CacheProvider.Grains.Internal;

/// <summary>
/// Turns a reminder ring range into KV subject filters over the hash-prefix tokens of reminder keys
/// (<c>{service}.{h0}.{h1}.{h2}.{hash:X8}...</c>, one hex digit per token). Whole prefix nodes inside the range
/// become <c>{service}.{h0}.&gt;</c>-style filters; leaves at the deepest level that the range only partly covers are
/// read whole and the exact predicate is applied per row. A range therefore reads about the fraction of rows it
/// covers, plus at most two partial leaves per interval end.
/// </summary>
internal static class HashRangeFilter
{
    private const string Hex = "0123456789ABCDEF";

    /// <summary>Whether <paramref name="hash"/> is in the ring range (begin, end] (begin &gt;= end wraps; equal = all).</summary>
    public static bool InRange(uint hash, uint begin, uint end) => begin < end ? hash > begin && hash <= end : hash > begin || hash <= end;

    /// <summary>
    /// Filters for the range, using prefix depth <paramref name="depth"/> or less so that at most
    /// <paramref name="maxFilters"/> filters result. <paramref name="prefix"/> is the encoded service token plus <c>.</c>.
    /// </summary>
    public static List<string> Build(string prefix, uint begin, uint end, int depth, int maxFilters)
    {
        var filters = new List<string>();
        if (begin == end)
        {
            filters.Add(prefix + ">");
            return filters;
        }

        for (var d = depth; d >= 1; d--)
        {
            filters.Clear();
            if (begin < end)
            {
                Cover(prefix, (ulong)begin + 1, end, d, filters);
            }
            else
            {
                if (begin != uint.MaxValue)
                {
                    Cover(prefix, (ulong)begin + 1, uint.MaxValue, d, filters);
                }

                Cover(prefix, 0, end, d, filters);
            }

            if (filters.Count <= maxFilters)
            {
                break;
            }
        }

        return filters;
    }

    /// <summary>Appends the prefix tokens (<paramref name="depth"/> hex digits, each a token) of a hash.</summary>
    public static void AppendPrefixTokens(StringBuilder builder, uint hash, int depth)
    {
        for (var i = 0; i < depth; i++)
        {
            builder.Append(Hex[(int)((hash >> (28 - (4 * i))) & 0xF)]).Append('.');
        }
    }

    private static void Cover(string prefix, ulong lo, ulong hi, int maxDepth, List<string> filters) =>
        CoverNode(prefix, lo, hi, 0, 0, maxDepth, filters);

    private static void CoverNode(string prefix, ulong lo, ulong hi, int level, ulong nodePrefix, int maxDepth, List<string> filters)
    {
        var shift = 32 - (4 * level);
        var nodeLo = nodePrefix << shift;
        var nodeHi = nodeLo + (1UL << shift) - 1;
        if (nodeHi < lo || nodeLo > hi)
        {
            return;
        }

        if ((nodeLo >= lo && nodeHi <= hi) || level == maxDepth)
        {
            var builder = new StringBuilder(prefix, prefix.Length + (2 * level) + 1);
            for (var i = 0; i < level; i++)
            {
                builder.Append(Hex[(int)((nodePrefix >> (4 * (level - 1 - i))) & 0xF)]).Append('.');
            }

            var filter = builder.Append('>').ToString();
            if (!filters.Contains(filter))
            {
                filters.Add(filter);
            }

            return;
        }

        for (ulong child = 0; child < 16; child++)
        {
            CoverNode(prefix, lo, hi, level + 1, (nodePrefix << 4) | child, maxDepth, filters);
        }
    }
}

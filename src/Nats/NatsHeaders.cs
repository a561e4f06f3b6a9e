using System.Collections;

namespace CacheProvider.Nats;

/// <summary>
/// NATS message headers: an ordered list of name/value pairs in which a name may repeat. Names keep their
/// exact case and are matched case-sensitively, because the server does (<c>Nats-TTL</c> works,
/// <c>nats-ttl</c> is ignored). Received headers also carry the status line's code and description
/// (for example <c>404 Message Not Found</c> or <c>503</c> for no responders).
/// </summary>
public sealed class NatsHeaders : IEnumerable<KeyValuePair<string, string>>
{
    private readonly List<KeyValuePair<string, string>> _items;

    /// <summary>Creates empty headers.</summary>
    public NatsHeaders() => _items = new List<KeyValuePair<string, string>>(4);

    internal NatsHeaders(int code, string? description, List<KeyValuePair<string, string>> items)
    {
        Code = code;
        Description = description;
        _items = items;
    }

    /// <summary>The status code from the <c>NATS/1.0</c> line; 0 when there was none.</summary>
    public int Code { get; }

    /// <summary>The status description from the <c>NATS/1.0</c> line, if any.</summary>
    public string? Description { get; }

    /// <summary>The number of name/value pairs.</summary>
    public int Count => _items.Count;

    /// <summary>The first value of <paramref name="name"/>, or null; setting replaces every value.</summary>
    public string? this[string name]
    {
        get => TryGetValue(name, out var v) ? v : null;
        set
        {
            Remove(name);
            if (value is not null)
            {
                Add(name, value);
            }
        }
    }

    /// <summary>Appends a value; earlier values of the same name stay.</summary>
    /// <exception cref="ArgumentException">The name or value cannot be sent in a NATS header.</exception>
    public void Add(string name, string value)
    {
        ValidateName(name);
        ValidateValue(name, value);
        _items.Add(new KeyValuePair<string, string>(name, value));
    }

    /// <summary>Removes every value of <paramref name="name"/>.</summary>
    /// <returns>Whether anything was removed.</returns>
    public bool Remove(string name)
    {
        var removed = _items.RemoveAll(p => string.Equals(p.Key, name, StringComparison.Ordinal));
        return removed > 0;
    }

    /// <summary>Gets the first value of <paramref name="name"/>.</summary>
    public bool TryGetValue(string name, out string value)
    {
        foreach (var p in _items)
        {
            if (string.Equals(p.Key, name, StringComparison.Ordinal))
            {
                value = p.Value;
                return true;
            }
        }

        value = string.Empty;
        return false;
    }

    /// <summary>Gets the last value of <paramref name="name"/> (JetStream appends its own headers last).</summary>
    public bool TryGetLastValue(string name, out string value)
    {
        for (var i = _items.Count - 1; i >= 0; i--)
        {
            if (string.Equals(_items[i].Key, name, StringComparison.Ordinal))
            {
                value = _items[i].Value;
                return true;
            }
        }

        value = string.Empty;
        return false;
    }

    /// <summary>Every value of <paramref name="name"/>, in order.</summary>
    public IReadOnlyList<string> GetValues(string name)
    {
        List<string>? values = null;
        foreach (var p in _items)
        {
            if (string.Equals(p.Key, name, StringComparison.Ordinal))
            {
                (values ??= new List<string>(1)).Add(p.Value);
            }
        }

        return values is null ? Array.Empty<string>() : values;
    }

    /// <summary>Whether <paramref name="name"/> is present.</summary>
    public bool Contains(string name) => TryGetValue(name, out _);

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, string>> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    internal List<KeyValuePair<string, string>> Items => _items;

    private static void ValidateName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        foreach (var c in name)
        {
            if (c <= ' ' || c == ':' || c > '~')
            {
                throw new ArgumentException($"Header name '{name}' contains a character not allowed in NATS headers", nameof(name));
            }
        }
    }

    private static void ValidateValue(string name, string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.AsSpan().IndexOfAny('\r', '\n') >= 0)
        {
            throw new ArgumentException($"Value of header '{name}' contains CR or LF", nameof(value));
        }
    }
}

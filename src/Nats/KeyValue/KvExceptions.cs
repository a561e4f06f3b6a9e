using CacheProvider.Nats.JetStream;

namespace CacheProvider.Nats.KeyValue;

/// <summary>Create failed because the key holds a value.</summary>
public sealed class KvKeyExistsException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvKeyExistsException(string bucket, string key, ulong revision)
        : base($"Key '{key}' already exists in bucket '{bucket}' (revision {revision})")
    {
        Bucket = bucket;
        Key = key;
        Revision = revision;
    }

    /// <summary>Bucket.</summary>
    public string Bucket { get; }

    /// <summary>Key.</summary>
    public string Key { get; }

    /// <summary>The revision of the existing value.</summary>
    public ulong Revision { get; }
}

/// <summary>An update or delete with an expected revision lost the race: the key changed meanwhile.</summary>
public sealed class KvWrongRevisionException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvWrongRevisionException(string bucket, string key, ulong expected, JetStreamApiException inner)
        : base($"Key '{key}' in bucket '{bucket}' is not at revision {expected}: {inner?.Description}", inner)
    {
        Bucket = bucket;
        Key = key;
        ExpectedRevision = expected;
    }

    /// <summary>Bucket.</summary>
    public string Bucket { get; }

    /// <summary>Key.</summary>
    public string Key { get; }

    /// <summary>The revision the caller expected.</summary>
    public ulong ExpectedRevision { get; }
}

/// <summary>A value is larger than the bucket or server allows (checked before sending).</summary>
public sealed class KvValueTooLargeException : NatsException
{
    /// <summary>Creates the exception.</summary>
    public KvValueTooLargeException(string bucket, long size, long limit, string what)
        : base($"Value of {size} bytes exceeds {what} of {limit} bytes for bucket '{bucket}'")
    {
        Bucket = bucket;
        Size = size;
        Limit = limit;
    }

    /// <summary>Bucket.</summary>
    public string Bucket { get; }

    /// <summary>Value size (with headers where the limit counts them).</summary>
    public long Size { get; }

    /// <summary>The limit.</summary>
    public long Limit { get; }
}

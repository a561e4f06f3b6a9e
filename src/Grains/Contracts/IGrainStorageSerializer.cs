namespace CacheProvider.Grains.Contracts;

/// <summary>Mirror of <c>Orleans.Storage.IGrainStorageSerializer</c>.</summary>
public interface IGrainStorageSerializer
{
    /// <summary>Serializes a state.</summary>
    BinaryData Serialize<T>(T input);

    /// <summary>Deserializes a state.</summary>
    T Deserialize<T>(BinaryData input);
}

/// <summary>Mirror of <c>Orleans.Storage.GrainStorageSerializerExtensions</c>.</summary>
public static class GrainStorageSerializerExtensions
{
    /// <summary>Deserializes from raw bytes.</summary>
    public static T Deserialize<T>(this IGrainStorageSerializer serializer, ReadOnlyMemory<byte> input)
    {
        ArgumentNullException.ThrowIfNull(serializer);
        return serializer.Deserialize<T>(new BinaryData(input));
    }
}

/// <summary>Mirror of <c>Orleans.Storage.IStorageProviderSerializerOptions</c>.</summary>
public interface IStorageProviderSerializerOptions
{
    /// <summary>The serializer; null = resolved from services (keyed by provider name, then unkeyed, then the default).</summary>
    IGrainStorageSerializer? GrainStorageSerializer { get; set; }
}

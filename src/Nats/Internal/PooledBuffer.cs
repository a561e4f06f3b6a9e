using System.Buffers;

namespace CacheProvider.Nats.Internal;

/// <summary>A growable byte buffer backed by <see cref="ArrayPool{T}"/>; not thread-safe.</summary>
internal sealed class PooledBuffer : IBufferWriter<byte>, IDisposable
{
    private const int ShrinkAbove = 4 * 1024 * 1024;
    private readonly int _initial;
    private byte[] _array;

    public PooledBuffer(int initialCapacity)
    {
        _initial = initialCapacity;
        _array = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    public int Length { get; private set; }

    public ReadOnlyMemory<byte> WrittenMemory => _array.AsMemory(0, Length);

    public ReadOnlySpan<byte> WrittenSpan => _array.AsSpan(0, Length);

    public void Advance(int count) => Length += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsMemory(Length);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _array.AsSpan(Length);
    }

    /// <summary>Empties the buffer; a buffer that grew large after a burst goes back to the pool.</summary>
    public void Reset()
    {
        Length = 0;
        if (_array.Length > ShrinkAbove)
        {
            ArrayPool<byte>.Shared.Return(_array);
            _array = ArrayPool<byte>.Shared.Rent(_initial);
        }
    }

    public void Dispose()
    {
        var array = _array;
        _array = Array.Empty<byte>();
        Length = 0;
        if (array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    private void Ensure(int sizeHint)
    {
        var need = Length + Math.Max(sizeHint, 1);
        if (need <= _array.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(need, _array.Length * 2));
        _array.AsSpan(0, Length).CopyTo(bigger);
        if (_array.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = bigger;
    }
}

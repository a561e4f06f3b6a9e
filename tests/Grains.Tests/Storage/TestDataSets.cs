using System.Text;
using Orleans;
using Orleans.Runtime;
using Orleans.Storage;
using CacheProvider.Grains.Tests.Support;

namespace CacheProvider.Grains.Tests.Storage;

/// <summary>Orleans' StorageDataSetPlain / StorageDataSetGeneric / StorageDataSet2CyrillicIdsAndGrainNames, rebuilt.</summary>
internal static class TestDataSets
{
    public static (GrainId, GrainState<TestState1>) PlainGuid(int i) =>
        (Legacy(RandomHex(), i == 0 ? null : Latin1(15)), PlainState(i));

    public static (GrainId, GrainState<TestState1>) PlainInteger(int i) =>
        (Legacy($"{0:X16}{Random.Shared.NextInt64():X16}", i == 0 ? null : Latin1(15)), PlainState(i));

    public static (GrainId, GrainState<TestState1>) PlainString(int i) =>
        (Legacy(new string('0', 32), Latin1(15)), PlainState(i));

    public static (GrainId, GrainState<TestStateGeneric1<string>>) Generic(int i) =>
        (Legacy(RandomHex(), i == 0 ? null : Latin1(15)), new GrainState<TestStateGeneric1<string>>(new TestStateGeneric1<string> { SomeData = Latin1(15), A = $"Data{i + 1}", B = i + 1, C = i + 4 }));

    public static (GrainId, GrainState<TestStateGeneric1<string>>) Cyrillic(int i) =>
        (GrainId.Create($"sys.grain.v1.{Random.Shared.NextInt64():x16}", Cyrillic15()), new GrainState<TestStateGeneric1<string>>(new TestStateGeneric1<string> { SomeData = Cyrillic15(), A = $"Data{i + 1}", B = i + 1, C = i + 4 }));

    private static TestState1 PlainStateValue(int i) => new() { A = Latin1(15), B = i + 1, C = i + 4 };

    private static GrainState<TestState1> PlainState(int i) => new(PlainStateValue(i));

    private static GrainId Legacy(string key, string? extension) =>
        GrainId.Create($"sys.grain.v1.{Random.Shared.NextInt64():x16}", extension is null ? key : key + "+" + extension);

    private static string RandomHex() => $"{Random.Shared.NextInt64():X16}{Random.Shared.NextInt64():X16}";

    private static string Latin1(int length)
    {
        var builder = new StringBuilder(length);
        while (builder.Length < length)
        {
            var c = (char)Random.Shared.Next(0x41, 0x100);
            if (char.IsAsciiLetter(c) || (c >= '\u00C0' && c != '\u00D7' && c != '\u00F7'))
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }

    private static string Cyrillic15()
    {
        var chars = new char[15];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)Random.Shared.Next(0x400, 0x500);
        }

        return new string(chars);
    }
}

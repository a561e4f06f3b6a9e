using System.Buffers;
using System.Text;
using CacheProvider.Nats.Internal;

namespace CacheProvider.Nats.Tests.Fuzz;

/// <summary>Inputs the fuzzer found mis-parsed, pinned so they stay fixed. Fast, so part of the normal suite.</summary>
public sealed class ParserRegressionTests
{
    // Utf8Parser accepts a sign, so "+5" read as sid 5 and "-0" as size 0; servers send plain digits only.
    [Theory]
    [InlineData("MSG a +5 1\r\nx\r\n")]
    [InlineData("MSG a -0 1\r\nx\r\n")]
    [InlineData("MSG a 1 +1\r\nx\r\n")]
    [InlineData("MSG a 1 reply -0\r\n\r\n")]
    [InlineData("HMSG a 1 +12 12\r\nNATS/1.0\r\n\r\n\r\n")]
    [InlineData("HMSG a 1 12 +12\r\nNATS/1.0\r\n\r\n\r\n")]
    public void Signed_numbers_in_MSG_and_HMSG_lines_are_a_protocol_error(string frame)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(frame));
        var handler = new RecordingHandler();
        Assert.Throws<NatsProtocolException>(() => new ProtocolParser().TryParse(ref buffer, handler));
        Assert.Empty(handler.Events);
    }

    [Fact]
    public void Unsigned_numbers_still_parse()
    {
        var buffer = new ReadOnlySequence<byte>("MSG a 007 reply 1\r\nx\r\nHMSG b 18 12 13\r\nNATS/1.0\r\n\r\ny\r\n"u8.ToArray());
        var handler = new RecordingHandler();
        var parser = new ProtocolParser();
        Assert.True(parser.TryParse(ref buffer, handler));
        Assert.True(parser.TryParse(ref buffer, handler));
        Assert.True(buffer.IsEmpty);
        Assert.Equal([7L, 18L], handler.Events.Select(e => e.Sid));
    }

    // Same for the status line: "-5" became status code -5 and "+404" became 404.
    [Theory]
    [InlineData("NATS/1.0 -5 Negative\r\n\r\n")]
    [InlineData("NATS/1.0 +404 Message Not Found\r\n\r\n")]
    [InlineData("NATS/1.0 -0\r\n\r\n")]
    public void Signed_status_code_in_header_block_is_a_protocol_error(string block)
    {
        var bytes = Encoding.ASCII.GetBytes(block);
        Assert.Throws<NatsProtocolException>(() => HeaderCodec.Parse(new ReadOnlySequence<byte>(bytes)));
        Assert.Throws<NatsProtocolException>(() => new HeaderReader(bytes));
    }

    [Fact]
    public void Plain_status_code_still_parses()
    {
        var headers = HeaderCodec.Parse(new ReadOnlySequence<byte>("NATS/1.0 404 Message Not Found\r\nA: 1\r\nA: 2\r\n\r\n"u8.ToArray()));
        Assert.Equal(404, headers.Code);
        Assert.Equal("Message Not Found", headers.Description);
        Assert.Equal(["1", "2"], headers.GetValues("A"));
    }
}

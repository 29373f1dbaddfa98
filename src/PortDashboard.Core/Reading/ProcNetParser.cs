using System.Buffers.Text;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

/// <summary>
/// Parses the text of <c>/proc/net/{tcp,tcp6,udp,udp6}</c> from bytes, allocating nothing per line but the
/// <see cref="Socket"/> itself. Addresses are the kernel's in-memory words printed as hex: IPv4 is one
/// little-endian 32-bit word, IPv6 four of them. A line that cannot be parsed is skipped and recorded in
/// <see cref="MalformedInput"/>; nothing throws.
/// </summary>
public static class ProcNetParser
{
    // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode [more...]
    private const int ColumnsRequired = 10;

    public static void Parse(
        ReadOnlySpan<byte> content,
        TransportProtocol protocol,
        IpVersion family,
        List<Socket> into,
        MalformedInput malformed,
        string source)
    {
        var first = true;
        while (!content.IsEmpty)
        {
            var newline = content.IndexOf((byte)'\n');
            var line = newline < 0 ? content : content[..newline];
            content = newline < 0 ? default : content[(newline + 1)..];
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (first)
            {
                first = false;
                if (line.IndexOf("local_address"u8) >= 0)
                {
                    continue; // the header
                }
            }

            if (line.Trim((byte)' ').IsEmpty)
            {
                continue;
            }

            var error = TryParseLine(line, protocol, family, out var socket);
            if (error is null)
            {
                into.Add(socket!);
            }
            else
            {
                malformed.Add(source, error, line);
            }
        }
    }

    /// <summary>Parses one table line; returns null on success, else why the line was rejected.</summary>
    internal static string? TryParseLine(ReadOnlySpan<byte> line, TransportProtocol protocol, IpVersion family, out Socket? socket)
    {
        socket = null;
        Span<Range> columns = stackalloc Range[ColumnsRequired];
        var count = SplitColumns(line, columns);
        if (count < ColumnsRequired)
        {
            return $"expected at least {ColumnsRequired} columns, found {count}";
        }

        if (!TryParseEndpoint(line[columns[1]], family, out var local, out var localError))
        {
            return "local address: " + localError;
        }

        if (!TryParseEndpoint(line[columns[2]], family, out var remote, out var remoteError))
        {
            return "remote address: " + remoteError;
        }

        if (!TryParseHex(line[columns[3]], out var kernelState) || kernelState is 0 or > 12)
        {
            return "state is not a kernel TCP state (01-0C)";
        }

        var queues = line[columns[4]];
        var colon = queues.IndexOf((byte)':');
        if (colon < 0 || !TryParseHex(queues[..colon], out var tx) || !TryParseHex(queues[(colon + 1)..], out var rx))
        {
            return "queues are not tx:rx in hex";
        }

        if (!TryParseDecimal(line[columns[7]], out var uid) || uid > int.MaxValue)
        {
            return "uid is not a number";
        }

        if (!TryParseDecimal(line[columns[9]], out var inode) || inode > long.MaxValue)
        {
            return "inode is not a number";
        }

        socket = new Socket(
            protocol,
            family,
            local,
            remote,
            SocketStates.FromKernel(protocol, (int)kernelState),
            (long)inode,
            (int)uid,
            (long)tx,
            (long)rx);
        return null;
    }

    /// <summary>Splits on runs of spaces; fills up to <paramref name="columns"/>.Length ranges and returns how many columns the line has.</summary>
    private static int SplitColumns(ReadOnlySpan<byte> line, Span<Range> columns)
    {
        var count = 0;
        var i = 0;
        while (i < line.Length)
        {
            while (i < line.Length && line[i] == (byte)' ')
            {
                i++;
            }

            if (i >= line.Length)
            {
                break;
            }

            var start = i;
            while (i < line.Length && line[i] != (byte)' ')
            {
                i++;
            }

            if (count < columns.Length)
            {
                columns[count] = new Range(start, i);
            }

            count++;
        }

        return count;
    }

    /// <summary>Parses <c>0100007F:0CEA</c> (IPv4) or 32 hex digits and a port (IPv6).</summary>
    internal static bool TryParseEndpoint(ReadOnlySpan<byte> text, IpVersion family, out Endpoint endpoint, out string? error)
    {
        endpoint = default;
        var colon = text.IndexOf((byte)':');
        if (colon < 0)
        {
            error = "no ':' between address and port";
            return false;
        }

        var addressHex = text[..colon];
        var portHex = text[(colon + 1)..];
        if (portHex.Length != 4 || !TryParseHex(portHex, out var port))
        {
            error = "port is not 4 hex digits";
            return false;
        }

        NetAddress address;
        if (family == IpVersion.IPv4)
        {
            if (addressHex.Length != 8 || !TryParseHex(addressHex, out var word))
            {
                error = "IPv4 address is not 8 hex digits";
                return false;
            }

            address = NetAddress.FromIPv4(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)word));
        }
        else
        {
            if (addressHex.Length != 32
                || !TryParseHex(addressHex[..8], out var w0)
                || !TryParseHex(addressHex[8..16], out var w1)
                || !TryParseHex(addressHex[16..24], out var w2)
                || !TryParseHex(addressHex[24..], out var w3))
            {
                error = "IPv6 address is not 32 hex digits";
                return false;
            }

            static ulong Swap(ulong word) => System.Buffers.Binary.BinaryPrimitives.ReverseEndianness((uint)word);
            address = NetAddress.FromIPv6((Swap(w0) << 32) | Swap(w1), (Swap(w2) << 32) | Swap(w3));
        }

        endpoint = new Endpoint(address, (int)port);
        error = null;
        return true;
    }

    private static bool TryParseHex(ReadOnlySpan<byte> text, out ulong value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 16)
        {
            return false;
        }

        foreach (var b in text)
        {
            int digit = b switch
            {
                >= (byte)'0' and <= (byte)'9' => b - '0',
                >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
                >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
                _ => -1,
            };
            if (digit < 0)
            {
                return false;
            }

            value = (value << 4) | (uint)digit;
        }

        return true;
    }

    private static bool TryParseDecimal(ReadOnlySpan<byte> text, out ulong value) =>
        Utf8Parser.TryParse(text, out value, out var consumed) && consumed == text.Length;
}

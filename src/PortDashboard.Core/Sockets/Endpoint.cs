using System.Globalization;

namespace PortDashboard.Core.Sockets;

/// <summary>An IP address and a port. Port 0 on a wildcard address means "no endpoint" (an unconnected socket's remote).</summary>
public readonly record struct Endpoint(NetAddress Address, int Port) : ISpanFormattable
{
    /// <summary>The longest text <see cref="TryFormat"/> writes: <c>[</c>, an IPv6 address, <c>]:</c>, a port (any int).</summary>
    public const int MaxTextLength = NetAddress.MaxTextLength + 14;

    /// <summary><c>*:*</c>: a listening or unconnected socket's remote side. It has no port range.</summary>
    public bool IsUnspecified => Port == 0 && Address.IsWildcard;

    /// <summary><c>127.0.0.1:80</c>, <c>[::1]:443</c>, <c>*:22</c>, <c>*:*</c>.</summary>
    public override string ToString()
    {
        Span<char> text = stackalloc char[MaxTextLength];
        TryFormat(text, out var written);
        return new string(text[..written]);
    }

    public string ToString(string? format, IFormatProvider? formatProvider) => ToString();

    /// <summary>
    /// Writes <c>address:port</c>, the address in brackets when it is IPv6 (<c>[::1]:443</c>); a wildcard address is
    /// <c>*</c> in either family (<c>*:22</c>), and the unspecified endpoint is <c>*:*</c>.
    /// </summary>
    public bool TryFormat(Span<char> destination, out int charsWritten, ReadOnlySpan<char> format = default, IFormatProvider? provider = null)
    {
        charsWritten = 0;
        var bracket = Address.IsIPv6 && !Address.IsWildcard;
        if (bracket && !Put(destination, ref charsWritten, '['))
        {
            return false;
        }

        if (!Address.TryFormat(destination[charsWritten..], out var addressWritten))
        {
            return false;
        }

        charsWritten += addressWritten;
        if ((bracket && !Put(destination, ref charsWritten, ']')) || !Put(destination, ref charsWritten, ':'))
        {
            return false;
        }

        if (IsUnspecified)
        {
            return Put(destination, ref charsWritten, '*');
        }

        if (!Port.TryFormat(destination[charsWritten..], out var portWritten, default, CultureInfo.InvariantCulture))
        {
            return false;
        }

        charsWritten += portWritten;
        return true;
    }

    private static bool Put(Span<char> destination, ref int charsWritten, char c)
    {
        if (charsWritten >= destination.Length)
        {
            return false;
        }

        destination[charsWritten++] = c;
        return true;
    }
}

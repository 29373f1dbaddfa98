namespace PortDashboard.Model;

/// <summary>The columns the Connections grid sorts on, named after <see cref="SocketRow"/>'s properties.</summary>
public enum SocketSortColumn : byte
{
    LocalPort,
    Protocol,
    LocalAddress,
    RemoteAddress,
    RemotePort,
    State,
    Process,
    User,
    Age,
    Throughput,
    Rtt,
    Retransmits,
    Host,
    Namespace,
    Container,
}

/// <summary>A sort order of the live table. Ties are broken by the socket's identity, so the order is total and stable.</summary>
public readonly record struct SocketSort(SocketSortColumn Column, bool Descending)
{
    public static SocketSort Default { get; } = new(SocketSortColumn.LocalPort, false);

    /// <summary>Maps the grid's sort definition (its column's property name) to a sort; unknown names sort by default.</summary>
    public static SocketSort FromGrid(string? sortBy, bool descending)
    {
        SocketSortColumn? column = sortBy switch
        {
            nameof(SocketRow.Protocol) => SocketSortColumn.Protocol,
            nameof(SocketRow.LocalAddress) => SocketSortColumn.LocalAddress,
            nameof(SocketRow.LocalPort) => SocketSortColumn.LocalPort,
            nameof(SocketRow.RemoteAddress) => SocketSortColumn.RemoteAddress,
            nameof(SocketRow.RemotePort) => SocketSortColumn.RemotePort,
            nameof(SocketRow.State) => SocketSortColumn.State,
            nameof(SocketRow.ProcessName) => SocketSortColumn.Process,
            nameof(SocketRow.User) => SocketSortColumn.User,
            nameof(SocketRow.FirstSeen) => SocketSortColumn.Age,
            nameof(SocketRow.Throughput) => SocketSortColumn.Throughput,
            nameof(SocketRow.RttMs) => SocketSortColumn.Rtt,
            nameof(SocketRow.Retransmits) => SocketSortColumn.Retransmits,
            nameof(SocketRow.Host) => SocketSortColumn.Host,
            nameof(SocketRow.Namespace) => SocketSortColumn.Namespace,
            nameof(SocketRow.Container) => SocketSortColumn.Container,
            _ => null,
        };

        return column is { } c ? new SocketSort(c, descending) : Default;
    }

    /// <summary>Whether the order follows figures that move with every snapshot (the rows' tcp_info), not only with the rows.</summary>
    public bool IsByLiveFigure => Column is SocketSortColumn.Throughput or SocketSortColumn.Rtt or SocketSortColumn.Retransmits;

    public Comparison<SocketRow> Comparison
    {
        get
        {
            var primary = Primary(Column);
            var descending = Descending;
            return (a, b) =>
            {
                var order = primary(a, b);
                if (order != 0)
                {
                    return descending ? -order : order;
                }

                return Identity(a, b);
            };
        }
    }

    private static Comparison<SocketRow> Primary(SocketSortColumn column) => column switch
    {
        SocketSortColumn.Protocol => static (a, b) => a.Protocol.CompareTo(b.Protocol),
        SocketSortColumn.LocalAddress => static (a, b) => a.LocalKey.CompareTo(b.LocalKey),
        SocketSortColumn.RemoteAddress => static (a, b) => a.RemoteKey.CompareTo(b.RemoteKey),
        SocketSortColumn.RemotePort => static (a, b) => a.RemotePort.CompareTo(b.RemotePort),
        SocketSortColumn.State => static (a, b) => a.State.CompareTo(b.State),
        SocketSortColumn.Process => static (a, b) => string.Compare(a.ProcessName, b.ProcessName, StringComparison.OrdinalIgnoreCase),
        SocketSortColumn.User => static (a, b) => string.Compare(a.User, b.User, StringComparison.Ordinal),
        // Youngest first when ascending: sorting by age puts new sockets on top.
        SocketSortColumn.Age => static (a, b) => b.FirstSeen.CompareTo(a.FirstSeen),
        // Unknown (null) sorts below every figure: sorted descending, the busiest come first and the unknown last.
        SocketSortColumn.Throughput => static (a, b) => Nullable.Compare(a.Throughput, b.Throughput),
        SocketSortColumn.Rtt => static (a, b) => Nullable.Compare(a.RttMs, b.RttMs),
        SocketSortColumn.Retransmits => static (a, b) => Nullable.Compare(a.Retransmits, b.Retransmits),
        SocketSortColumn.Host => static (a, b) => string.Compare(a.Host, b.Host, StringComparison.Ordinal),
        SocketSortColumn.Namespace => static (a, b) => string.Compare(a.Namespace, b.Namespace, StringComparison.Ordinal),
        SocketSortColumn.Container => static (a, b) => string.Compare(a.Container, b.Container, StringComparison.Ordinal),
        _ => static (a, b) => a.LocalPort.CompareTo(b.LocalPort),
    };

    /// <summary>The socket's identity, in an order people expect: protocol, local port, local address, remote.</summary>
    private static int Identity(SocketRow a, SocketRow b)
    {
        var order = a.Protocol.CompareTo(b.Protocol);
        if (order == 0) order = a.LocalPort.CompareTo(b.LocalPort);
        if (order == 0) order = a.LocalKey.CompareTo(b.LocalKey);
        if (order == 0) order = a.RemoteKey.CompareTo(b.RemoteKey);
        if (order == 0) order = a.RemotePort.CompareTo(b.RemotePort);
        if (order == 0) order = a.Key.Inode.CompareTo(b.Key.Inode);
        if (order == 0) order = a.Key.NetNs.CompareTo(b.Key.NetNs); // two namespaces' TIME_WAIT sockets can share endpoints
        if (order == 0) order = string.Compare(a.Host, b.Host, StringComparison.Ordinal); // across hosts, one key can be on two
        return order;
    }
}

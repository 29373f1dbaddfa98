using System.Collections.Immutable;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Pressure;

/// <summary>How close a pool of ephemeral ports is to running out.</summary>
public enum PressureLevel : byte
{
    Normal,
    Warning,
    Critical,
}

/// <summary>Where the warning and critical levels start, as shares of the OS ephemeral range (0.7 and 0.9 by default).</summary>
public sealed record PressureThresholds(double Warning = 0.7, double Critical = 0.9)
{
    public static PressureThresholds Default { get; } = new();

    public PressureLevel LevelOf(double utilization) =>
        utilization >= Critical ? PressureLevel.Critical : utilization >= Warning ? PressureLevel.Warning : PressureLevel.Normal;
}

/// <summary>
/// One destination that outgoing connections share a pool of source ports for: the kernel needs a distinct
/// ephemeral port per (local address, remote address, remote port, protocol), so exhaustion happens per destination.
/// </summary>
public readonly record struct Destination(TransportProtocol Protocol, NetAddress LocalAddress, Endpoint Remote)
{
    public override string ToString() => $"{Protocol.ToDisplayName()} {LocalAddress} → {Remote}";
}

/// <summary>The ephemeral ports one destination holds, how fast it opens more, and when it would run out.</summary>
/// <param name="Destination">Local address, remote endpoint, protocol.</param>
/// <param name="PortsInUse">Local ports from the OS ephemeral range held toward this destination (TIME_WAIT included).</param>
/// <param name="TimeWait">How many of them are in TIME_WAIT.</param>
/// <param name="RangeSize">The size of the OS ephemeral range.</param>
/// <param name="OpeningRatePerSecond">New sockets per second toward this destination, over the recent window.</param>
/// <param name="TimeToExhaustion">At this opening rate, how long until no port is left; null when the rate is sustainable.</param>
public sealed record DestinationPressure(
    Destination Destination,
    int PortsInUse,
    int TimeWait,
    int RangeSize,
    double OpeningRatePerSecond,
    TimeSpan? TimeToExhaustion,
    PressureLevel Level)
{
    public double Utilization => RangeSize == 0 ? 0 : (double)PortsInUse / RangeSize;
}

/// <summary>Ephemeral port use on a host: per protocol against the OS range, and per destination, top first.</summary>
public sealed record EphemeralPressureReport(
    int RangeSize,
    int TcpPortsInUse,
    int UdpPortsInUse,
    int TcpTimeWait,
    PressureLevel Level,
    ImmutableArray<DestinationPressure> Destinations)
{
    public double TcpUtilization => RangeSize == 0 ? 0 : (double)TcpPortsInUse / RangeSize;

    public double UdpUtilization => RangeSize == 0 ? 0 : (double)UdpPortsInUse / RangeSize;

    /// <summary>The share of TCP ports in use that sit in TIME_WAIT.</summary>
    public double TimeWaitShare => TcpPortsInUse == 0 ? 0 : (double)TcpTimeWait / TcpPortsInUse;
}

/// <summary>Computes <see cref="EphemeralPressureReport"/>s from snapshots and the opening rates a <see cref="OpeningRateTracker"/> keeps.</summary>
public static class EphemeralPressure
{
    /// <summary>How long Linux keeps a closed connection's port in TIME_WAIT (TCP_TIMEWAIT_LEN).</summary>
    public static TimeSpan TimeWaitLength { get; } = TimeSpan.FromSeconds(60);

    public static EphemeralPressureReport Compute(
        Snapshot snapshot,
        IReadOnlyDictionary<Destination, double>? openingRates = null,
        PressureThresholds? thresholds = null,
        int top = 50)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        thresholds ??= PressureThresholds.Default;
        var policy = snapshot.PortPolicy;
        var rangeSize = policy.EphemeralRangeSize;
        var tcpPorts = new HashSet<int>();
        var udpPorts = new HashSet<int>();
        var tcpTimeWait = new HashSet<int>();
        var perDestination = new Dictionary<Destination, (int InUse, int TimeWait)>();

        foreach (var socket in snapshot.Sockets)
        {
            var port = socket.Local.Port;
            if (!policy.IsOsEphemeral(port))
            {
                continue;
            }

            var ports = socket.Protocol == TransportProtocol.Tcp ? tcpPorts : udpPorts;
            ports.Add(port);
            if (socket.State == SocketState.TimeWait)
            {
                tcpTimeWait.Add(port);
            }

            if (OpeningRateTracker.DestinationOf(socket, policy) is not { } destination)
            {
                continue; // a bound port, not an outgoing connection's
            }

            perDestination.TryGetValue(destination, out var counts);
            perDestination[destination] = (counts.InUse + 1, counts.TimeWait + (socket.State == SocketState.TimeWait ? 1 : 0));
        }

        var destinations = perDestination
            .Select(pair =>
            {
                var rate = openingRates is not null && openingRates.TryGetValue(pair.Key, out var r) ? r : 0;
                var utilization = rangeSize == 0 ? 0 : (double)pair.Value.InUse / rangeSize;
                return new DestinationPressure(
                    pair.Key, pair.Value.InUse, pair.Value.TimeWait, rangeSize, rate,
                    TimeToExhaustion(pair.Value.InUse, pair.Value.TimeWait, rangeSize, rate),
                    thresholds.LevelOf(utilization));
            })
            .OrderByDescending(d => d.PortsInUse)
            .ThenByDescending(d => d.OpeningRatePerSecond)
            .Take(top)
            .ToImmutableArray();

        var worst = Math.Max(
            rangeSize == 0 ? 0 : (double)tcpPorts.Count / rangeSize,
            destinations.IsEmpty ? 0 : destinations.Max(d => d.Utilization));
        return new EphemeralPressureReport(rangeSize, tcpPorts.Count, udpPorts.Count, tcpTimeWait.Count, thresholds.LevelOf(worst), destinations);
    }

    /// <summary>
    /// Ports toward a destination are freed no faster than TIME_WAIT lets them go (about TimeWait / 60 s), and taken
    /// at the opening rate. When opening outpaces freeing, the free ports last (free / net rate); otherwise never.
    /// </summary>
    public static TimeSpan? TimeToExhaustion(int inUse, int timeWait, int rangeSize, double openingRatePerSecond)
    {
        var free = rangeSize - inUse;
        if (free <= 0)
        {
            return TimeSpan.Zero;
        }

        var freeingRate = timeWait / TimeWaitLength.TotalSeconds;
        var netRate = openingRatePerSecond - freeingRate;

        // In steady state each opened connection holds its port for at least TIME_WAIT: rate × 60 s ports.
        if (netRate <= 0 || openingRatePerSecond * TimeWaitLength.TotalSeconds < free + timeWait)
        {
            return null;
        }

        return TimeSpan.FromSeconds(free / netRate);
    }
}

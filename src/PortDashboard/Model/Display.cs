using System.Collections.Immutable;
using System.Globalization;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Model;

/// <summary>How values read on screen: ages, intervals, owners, users, ranges.</summary>
public static class Display
{
    /// <summary><c>0.5 s</c>, <c>1 s</c>, <c>2 min</c>.</summary>
    public static string Interval(TimeSpan interval) => interval switch
    {
        { TotalSeconds: < 1 } => string.Create(CultureInfo.InvariantCulture, $"{interval.TotalSeconds:0.###} s"),
        { TotalSeconds: < 60 } => string.Create(CultureInfo.InvariantCulture, $"{interval.TotalSeconds:0.#} s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{interval.TotalMinutes:0.#} min"),
    };

    /// <summary>A compact age: <c>4s</c>, <c>3m 05s</c>, <c>2h 07m</c>, <c>3d 04h</c>.</summary>
    public static string Age(TimeSpan age) => age switch
    {
        { TotalSeconds: < 60 } => string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalSeconds}s"),
        { TotalMinutes: < 60 } => string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalMinutes}m {age.Seconds:00}s"),
        { TotalHours: < 24 } => string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalHours}h {age.Minutes:00}m"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(int)age.TotalDays}d {age.Hours:00}h"),
    };

    /// <summary>The age of a row; <c>≥</c> when the socket was already open when the view started.</summary>
    public static string Age(SocketRow row, DateTimeOffset now) =>
        (row.SeenAtStart ? "≥ " : "") + Age(row.AgeAt(now));

    /// <summary><c>nginx (812), nginx (813)</c>; empty when there is no owner.</summary>
    public static string Owners(ImmutableArray<ProcessInfo> owners) => owners.Length switch
    {
        0 => "",
        1 => Owner(owners[0]),
        _ => string.Join(", ", owners.Select(Owner)),
    };

    public static string Owner(ProcessInfo owner) =>
        string.Create(CultureInfo.InvariantCulture, $"{owner.Name} ({owner.Pid})");

    /// <summary>The owners' distinct user names; the kernel's uid when no owner is known (none in TIME_WAIT).</summary>
    public static string User(Socket socket)
    {
        if (!socket.Owners.IsEmpty)
        {
            return socket.Owners.Length == 1
                ? socket.Owners[0].UserName
                : string.Join(", ", socket.Owners.Select(o => o.UserName).Distinct(StringComparer.Ordinal));
        }

        return socket.State == SocketState.TimeWait ? "" : string.Create(CultureInfo.InvariantCulture, $"uid {socket.Uid}");
    }

    /// <summary>The CSS class of a range chip.</summary>
    public static string RangeClass(PortRange range) => "range-chip range-" + range.ToQueryValue();

    /// <summary>What IANA's class means, in one sentence.</summary>
    public static string RangeTitle(PortRange range) => range switch
    {
        PortRange.WellKnown => "IANA well-known (system) port, 0–1023: a name, not a rule",
        PortRange.Registered => "IANA registered (user) port, 1024–49151: a name, not a rule",
        _ => "IANA ephemeral (dynamic/private) port, 49152–65535: a name, not a rule",
    };

    /// <summary>What the OS-ephemeral mark means on this machine, in one sentence with its range.</summary>
    public static string OsEphemeralTitle(OsPortPolicy policy) => string.Create(
        CultureInfo.InvariantCulture,
        $"OS ephemeral: inside this machine's net.ipv4.ip_local_port_range {policy.EphemeralFirst}–{policy.EphemeralLast}, so the kernel hands it out as a source port");

    /// <summary>What the privileged mark means on this machine, in one sentence with its threshold.</summary>
    public static string PrivilegedTitle(OsPortPolicy policy) => string.Create(
        CultureInfo.InvariantCulture,
        $"Privileged: below this machine's net.ipv4.ip_unprivileged_port_start {policy.UnprivilegedPortStart}, so binding it needs root or CAP_NET_BIND_SERVICE");

    /// <summary><c>12,345</c>.</summary>
    public static string Count(int value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A rate in bytes per second, in B/s, KB/s, MB/s or GB/s (1000-based, as network rates are); "–" when unknown.</summary>
    public static string Rate(double? bytesPerSecond) => bytesPerSecond switch
    {
        null => "–",
        < 1000 => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond:0} B/s"),
        < 1e6 => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / 1e3:0.#} KB/s"),
        < 1e9 => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / 1e6:0.#} MB/s"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytesPerSecond / 1e9:0.#} GB/s"),
    };

    /// <summary>Both directions of a rate, received first: <c>↓ 1.2 KB/s ↑ 30 B/s</c>; "–" when unknown.</summary>
    public static string Throughput(Throughput? rate) =>
        rate is { } r ? $"↓ {Rate(r.ReceivedPerSecond)} ↑ {Rate(r.SentPerSecond)}" : "–";

    /// <summary>A round-trip time in ms; "–" when unknown.</summary>
    public static string Rtt(double? milliseconds) =>
        milliseconds is { } ms ? string.Create(CultureInfo.InvariantCulture, $"{ms:0.###} ms") : "–";

    /// <summary>The OS port policy as the header shows it: <c>ephemeral 32768–60999 · privileged &lt; 1024</c>.</summary>
    public static string Policy(OsPortPolicy policy) => string.Create(
        CultureInfo.InvariantCulture,
        $"ephemeral {policy.EphemeralFirst}–{policy.EphemeralLast} · privileged < {policy.UnprivilegedPortStart}");
}

using System.Text;

namespace PortDashboard.Core.Reading.Namespaces;

/// <summary>
/// Names the container a process runs in from its <c>/proc/&lt;pid&gt;/cgroup</c> (cgroup v2's one <c>0::/path</c> line,
/// or v1's <c>N:controllers:/path</c> lines), as the runtimes lay their cgroups out:
/// <list type="bullet">
/// <item>Docker: <c>…/docker-&lt;id&gt;.scope</c> (systemd driver) or <c>/docker/&lt;id&gt;</c> (cgroupfs) → <c>docker:&lt;12 hex&gt;</c>, the id <c>docker ps</c> shows;</item>
/// <item>containerd / CRI: <c>cri-containerd-&lt;id&gt;.scope</c> → <c>containerd:&lt;12&gt;</c>, CRI-O's <c>crio-&lt;id&gt;.scope</c> → <c>crio:&lt;12&gt;</c>,
/// and a bare id under a <c>kubepods</c> path (<c>/kubepods/besteffort/pod&lt;uid&gt;/&lt;id&gt;</c>) → <c>k8s:&lt;12&gt;</c>;</item>
/// <item>Podman: <c>libpod-&lt;id&gt;.scope</c> (or <c>/libpod_parent/libpod-&lt;id&gt;</c>) → <c>podman:&lt;12&gt;</c> (its <c>libpod-conmon-</c> monitor is not the container);</item>
/// <item>systemd: the innermost <c>foo.service</c> of the path → <c>foo.service</c> (not slices, not session scopes).</item>
/// </list>
/// A container wins over a unit (a container's path also holds <c>docker.service</c> or <c>containerd.service</c> under
/// some setups); the v2 line is read first, then the v1 lines in order. Null for the root cgroup and anything unknown.
/// </summary>
public static class ContainerNames
{
    /// <summary>How many hex digits of a container id are shown, as <c>docker ps</c> does.</summary>
    public const int ShortIdLength = 12;

    /// <summary>The container named by a whole <c>cgroup</c> file (UTF-8 bytes); null when none.</summary>
    public static string? FromCgroupFile(ReadOnlySpan<byte> content) => FromCgroupFile(Encoding.UTF8.GetString(content));

    /// <summary>The container named by a whole <c>cgroup</c> file; null when none.</summary>
    public static string? FromCgroupFile(string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        string? unit = null;

        // cgroup v2's line first: on a hybrid system it is the one systemd and the runtimes keep up to date.
        foreach (var pass in (ReadOnlySpan<bool>)[true, false])
        {
            foreach (var range in content.AsSpan().Split('\n'))
            {
                var line = content.AsSpan()[range];
                var first = line.IndexOf(':');
                var second = first < 0 ? -1 : line[(first + 1)..].IndexOf(':');
                if (second < 0)
                {
                    continue;
                }

                var isV2 = line[..first] is "0" && second == 0;
                if (isV2 != pass)
                {
                    continue;
                }

                var path = line[(first + second + 2)..].TrimEnd('\r');
                if (FromPath(path, out var isUnit) is { } name)
                {
                    if (!isUnit)
                    {
                        return name;
                    }

                    unit ??= name;
                }
            }
        }

        return unit;
    }

    /// <summary>The container a cgroup path names; <paramref name="isUnit"/> when it is only a systemd unit.</summary>
    public static string? FromPath(ReadOnlySpan<char> path, out bool isUnit)
    {
        isUnit = false;
        string? unit = null;
        var segments = path.ToString().Split('/', StringSplitOptions.RemoveEmptyEntries);
        var underKubepods = segments.Any(segment => segment.StartsWith("kubepods", StringComparison.Ordinal));

        for (var i = segments.Length - 1; i >= 0; i--)
        {
            var segment = segments[i];
            if (Scoped(segment, "docker-") is { } docker)
            {
                return "docker:" + docker;
            }

            if (Scoped(segment, "cri-containerd-") is { } containerd)
            {
                return "containerd:" + containerd;
            }

            if (Scoped(segment, "crio-") is { } crio)
            {
                return "crio:" + crio;
            }

            if (!segment.StartsWith("libpod-conmon-", StringComparison.Ordinal) && Scoped(segment, "libpod-") is { } podman)
            {
                return "podman:" + podman;
            }

            if (i > 0 && IsContainerId(segment))
            {
                switch (segments[i - 1])
                {
                    case "docker":
                        return "docker:" + segment[..ShortIdLength];
                    case "libpod_parent":
                        return "podman:" + segment[..ShortIdLength];
                }

                if (underKubepods)
                {
                    return "k8s:" + segment[..ShortIdLength];
                }
            }

            if (unit is null && segment.Length > ".service".Length && segment.EndsWith(".service", StringComparison.Ordinal)
                && !segment.StartsWith("user@", StringComparison.Ordinal))
            {
                unit = segment;
            }
        }

        isUnit = unit is not null;
        return unit;
    }

    /// <summary>The short id of <c>{prefix}{id}.scope</c> (or <c>{prefix}{id}</c>), when the id is a container id.</summary>
    private static string? Scoped(string segment, string prefix)
    {
        if (!segment.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var id = segment.AsSpan(prefix.Length);
        if (id.EndsWith(".scope"))
        {
            id = id[..^".scope".Length];
        }

        return IsContainerId(id) ? id[..ShortIdLength].ToString() : null;
    }

    /// <summary>A container id: 64 lower-case hex digits (Docker, containerd, CRI-O and Podman all use them).</summary>
    private static bool IsContainerId(ReadOnlySpan<char> id)
    {
        if (id.Length != 64)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!char.IsAsciiHexDigitLower(c))
            {
                return false;
            }
        }

        return true;
    }
}

using PortDashboard.Bench;

// PortDashboard's benchmark harness; bench/run.sh runs every part on tables the load generator opens.
//
//   PortDashboard.Bench [times] [--runs 15] [--max-seconds 20] [--skip-slow] [--tick-ms 1000] [--tick-runs 11]
//       Times PortDashboard's snapshot against ss, lsof, netstat and cat /proc/net/tcp* on the SAME socket table,
//       in the same run, and prints each ratio.
//   PortDashboard.Bench ticks [--ticks 30] [--tick-ms 1000]
//       What incremental attribution read at each tick (processes, descriptors, listings) and how long each took.
//   PortDashboard.Bench wire
//       Sizes of the hub's messages for the current table, as the server writes them, per protocol.
//   PortDashboard.Bench server --app <PortDashboard.dll> [--seconds 60] [--full-json] [--port 5199] [--env K=V,K=V]
//       Runs the app at 1 Hz polling and reports its CPU share, its RSS and the hub's bytes per delta.
//   PortDashboard.Bench tcpinfo [--runs 21]
//       The poll's cost of asking for INET_DIAG_INFO (tcp_info): netlink read and steady snapshot, on vs off, interleaved.
//   PortDashboard.Bench netns [--runs 21] [--prefix pd-bench-]
//       What reading the other network namespaces costs (bench/netns.sh makes them): sock_diag after setns vs
//       /proc/<pid>/net per namespace, the listing alone, and the steady snapshot host + namespaces vs host only.
//   PortDashboard.Bench names [--sockets 10000] [--addresses 2000] [--runs 21]
//       What reverse-DNS names and grouping cost the Connections page's view (never the poll), against the plain view.
//   PortDashboard.Bench latency --app <published PortDashboard.dll> [--trials 50] [--poll-ms 1000] [--chromium /usr/bin/chromium]
//       Socket opened → visible in a headless chromium on the Connections page: percentiles over the trials.
//   PortDashboard.Bench soak --app <published PortDashboard.dll> [--minutes 10] [--warmup 60] [--hub-clients 50] [--pages 5]
//       [--history-max-rows 200000] [--port 5197]: the app held for minutes on the current table (bench/soak.sh churns
//       it) with hub clients and chromium pages open: RSS growth, tick time, GC pauses, gaps, resyncs, history rows.
//   PortDashboard.Bench fleet --app <published PortDashboard.dll> --generator <bench/fleet-host-load.py> [--agents 50]
//       [--sockets 1000] [--churn 2] [--warmup 60] [--seconds 60] [--trials 30] [--trial-hosts 5] [--poll-ms 1000]
//       [--port 5196] [--start-batch 5] [--deadline-minutes 45] [--state DIR]: the fleet of issue 12 (bench/fleet.sh): a
//       redis-server, N agents each in its own network and PID namespace with a churning generator, one dashboard;
//       each agent's CPU and RSS, the dashboard's, Redis's memory, socket opened in a namespace → row in chromium.
//   PortDashboard.Bench stalled --app <PortDashboard.dll> [--counts 1,10,100] [--stall-seconds 40] [--baseline-seconds 15]
//       [--stalled-filter F] [--receive-buffer BYTES] [--env K=V,...] [--port 5281]: hub clients in a separate process that
//       subscribe and are SIGSTOPped, while a healthy client measures its deltas' delay (bench/stalled.sh churns the table).
//   PortDashboard.Bench churn --app <PortDashboard.dll> [--seconds 60] [--rate 20] [--max-stay-ms 2000] [--port 5282]
//       Hub connections coming and going at a fixed rate: connections/s, thread pool, RSS, gauges back at base.

var command = args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal) ? args[0] : "times";
var rest = command == "times" && (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal)) ? args : args[1..];
try
{
    return command switch
    {
        "times" => Timings.Run(Arguments.Parse(rest)),
        "ticks" => Timings.Ticks(Arguments.Parse(rest)),
        "wire" => WireSizes.Run(Arguments.Parse(rest)),
        "server" => await ServerLoad.RunAsync(Arguments.Parse(rest)),
        "latency" => await BrowserLatency.RunAsync(Arguments.Parse(rest)),
        "tcpinfo" => TcpInfoCost.Run(Arguments.Parse(rest)),
        "names" => NamesCost.Run(Arguments.Parse(rest)),
        "netns" => NamespaceCost.Run(Arguments.Parse(rest)),
        "soak" => await Soak.RunAsync(Arguments.Parse(rest)),
        "fleet" => await FleetBench.RunAsync(Arguments.Parse(rest)),
        "stalled" => await Stalled.RunAsync(Arguments.Parse(rest)),
        "stall-clients" => await Stalled.HoldAsync(Arguments.Parse(rest)), // the stalled side, started by "stalled"
        "churn" => await HubChurn.RunAsync(Arguments.Parse(rest)),
        _ => throw new ArgumentException($"unknown command '{command}': expected times, ticks, wire, server, latency, tcpinfo, netns, names, soak, fleet, stalled or churn"),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

namespace PortDashboard.Tests.Metrics;

/// <summary>
/// Tests that read exact values from /metrics run alone: OpenTelemetry listens to meters by name process-wide, so the
/// apps other tests run at the same time in this process would add their sockets and requests to the figures. (In
/// production there is one app per process.)
/// </summary>
[CollectionDefinition(nameof(MetricsCollection), DisableParallelization = true)]
public sealed class MetricsCollection;

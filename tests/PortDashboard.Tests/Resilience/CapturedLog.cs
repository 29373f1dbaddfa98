using System.Collections.Concurrent;
using Serilog.Core;
using Serilog.Events;

namespace PortDashboard.Tests.Resilience;

/// <summary>
/// A Serilog sink a test registers as a service: the app's logger takes every <see cref="ILogEventSink"/> service
/// (<c>ReadFrom.Services</c>), so the test sees the app's own structured events.
/// </summary>
public sealed class CapturedLog : ILogEventSink
{
    private readonly ConcurrentQueue<LogEvent> _events = new();

    public IReadOnlyList<LogEvent> Events => [.. _events];

    public void Emit(LogEvent logEvent) => _events.Enqueue(logEvent);

    /// <summary>Events whose message template starts with <paramref name="templateStart"/>.</summary>
    public IEnumerable<LogEvent> Where(string templateStart) =>
        Events.Where(e => e.MessageTemplate.Text.StartsWith(templateStart, StringComparison.Ordinal));

    public static object? Scalar(LogEvent logEvent, string property) =>
        logEvent.Properties.TryGetValue(property, out var value) && value is ScalarValue scalar ? scalar.Value : null;
}

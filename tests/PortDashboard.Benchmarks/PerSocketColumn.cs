using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace PortDashboard.Benchmarks;

/// <summary>Median time or allocated bytes divided by the sockets in the table ("-" for the one-socket benchmark).</summary>
internal sealed class PerSocketColumn(PerSocketColumn.Kind kind, int sockets) : IColumn
{
    public enum Kind
    {
        Time,
        Allocated,
    }

    public string Id => $"{nameof(PerSocketColumn)}.{kind}";

    public string ColumnName => kind == Kind.Time ? "Time/socket" : "Allocated/socket";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => (int)kind;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => kind == Kind.Time
        ? $"Median time divided by the {sockets:N0} sockets of the table"
        : $"Allocated bytes divided by the {sockets:N0} sockets of the table";

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is null || benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(ProcNetParserBenchmarks.OneSocket))
        {
            return "-";
        }

        return kind == Kind.Time
            ? string.Create(CultureInfo.InvariantCulture, $"{report.ResultStatistics.Median / sockets:F1} ns")
            : string.Create(CultureInfo.InvariantCulture, $"{(double)report.GcStats.GetBytesAllocatedPerOperation(benchmarkCase)! / sockets:F1} B");
    }
}

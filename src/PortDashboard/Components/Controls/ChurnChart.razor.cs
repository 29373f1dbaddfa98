using Microsoft.AspNetCore.Components;
using MudBlazor;
using PortDashboard.Model;

namespace PortDashboard.Components.Controls;

/// <summary>The churn chart: rebuilds its series only when the history changed (its version moved).</summary>
public partial class ChurnChart
{
    private readonly LineChartOptions _churnOptions = new()
    {
        ShowDataMarkers = false,
        YAxisRequireZeroPoint = true,
        ShowToolTips = true,
        ShowLegend = false,
        ChartPalette = ["#2e7d32", "#c62828"],
        YAxisFormat = "0",
        MaxNumYAxisTicks = 4,
    };

    private readonly LineChartOptions _ephemeralOptions = new()
    {
        ShowDataMarkers = false,
        YAxisRequireZeroPoint = true,
        ShowToolTips = true,
        ShowLegend = false,
        ChartPalette = ["#1565c0"],
        YAxisFormat = "0",
        MaxNumYAxisTicks = 4,
    };

    private List<ChartSeries<double>> _churn = [];
    private List<ChartSeries<double>> _ephemeral = [];
    private string[] _labels = [];
    private int _builtVersion = -1;
    private ChurnHistory? _builtFrom;
    private bool _rebuilt;

    [Parameter, EditorRequired]
    public ChurnHistory History { get; set; } = default!;

    private int Minutes => (int)Math.Round(History.Window.TotalMinutes);

    /// <summary>A line needs two points; until then the chart says it is collecting.</summary>
    private bool HasLine => History.Points.Count >= 2;

    /// <summary>The history's version when the parent rendered; the chart rebuilds when it moves.</summary>
    [Parameter]
    public int Version { get; set; }

    protected override void OnParametersSet()
    {
        if (_builtVersion == Version && ReferenceEquals(_builtFrom, History))
        {
            return;
        }

        var points = History.Points;
        var opened = new double[points.Count];
        var closed = new double[points.Count];
        var ephemeral = new double[points.Count];
        for (var i = 0; i < points.Count; i++)
        {
            opened[i] = points[i].Opened;
            closed[i] = points[i].Closed;
            ephemeral[i] = points[i].EphemeralPortsInUse;
        }

        _churn =
        [
            new ChartSeries<double>(opened) { Name = "Opened" },
            new ChartSeries<double>(closed) { Name = "Closed" },
        ];
        _ephemeral = [new ChartSeries<double>(ephemeral) { Name = "In use" }];
        _labels = History.Labels();
        (_builtVersion, _builtFrom, _rebuilt) = (Version, History, true);
    }

    // The page re-renders for many reasons; the chart only when its data moved.
    protected override bool ShouldRender()
    {
        var render = _rebuilt;
        _rebuilt = false;
        return render;
    }
}

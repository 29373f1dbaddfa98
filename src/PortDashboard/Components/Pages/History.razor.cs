using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using MudBlazor;
using PortDashboard.Components.Fleet;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Insight;
using PortDashboard.Insight.History;
using PortDashboard.Model;
using PortDashboard.Monitoring;

namespace PortDashboard.Components.Pages;

/// <summary>
/// The time machine: scrub back to a moment and see the sockets open then (born at or before it, not yet dead),
/// through the same filter as the live table; with the opened/closed counts per minute and each process's socket
/// lifetimes over the hour up to that moment. The moment and the filter live in the URL (<c>?at=...&amp;port=5432</c>).
/// </summary>
public partial class History : IDisposable
{
    /// <summary>The most rows the table shows for one moment.</summary>
    public const int RowLimit = 5_000;

    private static readonly (string Label, double Minutes)[] Jumps = [("−1 min", 1), ("−5 min", 5), ("−15 min", 15), ("−1 h", 60)];
    private static readonly string[] OwnKeys = ["at"];

    private DateTimeOffset _at;
    private bool _atIsNow = true;
    private Filter _filter = Filter.Empty;
    private FilterException? _filterError;
    private string? _timeError;
    private HistoryPage _alive = new([], false);
    private IReadOnlyList<MinuteCounts> _minutes = [];
    private IReadOnlyList<ProcessLifetimes> _lifetimes = [];
    private HistoryExtent? _extent;
    private bool _loaded;
    private bool _interactive;
    private int _loadVersion;

    [Inject]
    private InsightState Insight { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    [Inject]
    private ServiceNameRegistry ServiceNames { get; set; } = default!;

    private IReadOnlyList<HistoryRow> AliveRows => _alive.Rows;

    private string AliveCountText => _alive.Truncated
        ? $"the first {Display.Count(_alive.Rows.Count)} (more matched)"
        : $"{Display.Count(_alive.Rows.Count)} sockets";

    private string HistoryOffText => Insight.History switch
    {
        { Enabled: false } => "History is off (PortDashboard:History:Enabled is false): births and deaths of sockets are not recorded.",
        { Error: { } error } => $"History is unavailable: {Insight.History.Path} could not be opened ({error}).",
        _ => "History is starting…",
    };

    private double SliderMinutes => Math.Max(60, Math.Ceiling((Time.GetUtcNow() - (_extent?.OldestBirth ?? Time.GetUtcNow())).TotalMinutes));

    private double SliderValue => -Math.Round((Time.GetUtcNow() - _at).TotalMinutes * 4) / 4;

    private string AgoText => _atIsNow ? "now" : Display.Age(Time.GetUtcNow() - _at) + " ago";

    private string ExtentText => _extent is { OldestBirth: { } oldest } extent
        ? $"{Display.Count((int)Math.Min(extent.Rows, int.MaxValue))} sockets kept since {oldest.ToLocalTime():yyyy-MM-dd HH:mm} · {extent.FileBytes / (1024.0 * 1024):0.#} MB"
        : "";

    private string? OtherCriteria
    {
        get
        {
            var other = (_filter with { Text = null }).ToQueryString();
            return other.Length == 0 ? null : Uri.UnescapeDataString(other).Replace("&", " · ", StringComparison.Ordinal);
        }
    }

    [Inject]
    private IServiceProvider ServiceProvider { get; set; } = default!;

    [Inject]
    private ISnapshotFeed Feed { get; set; } = default!;

    private HostScope _scope = default!;

    /// <summary>
    /// The history is this node's own: agents publish their live tables, not their history. With <c>host=</c> naming
    /// other hosts the page says so rather than showing this node's history under their name.
    /// </summary>
    private string? OtherHostsText => _scope.Selection.IsFleet
        ? $"History is recorded by each dashboard for its own host only ({_scope.LocalHost}); fleet hosts publish their live table, not their history. "
            + $"Their live sockets are on Connections with the same host choice; choose \"{_scope.LocalHost}\" (or no host) for this host's history."
        : null;

    protected override async Task OnInitializedAsync()
    {
        _scope = new HostScope(ServiceProvider, Navigation, Feed, () => _ = InvokeAsync(() =>
        {
            _scope.Refresh();
            StateHasChanged();
        }));
        _scope.Refresh();
        ApplyUrl(Navigation.Uri);
        Navigation.LocationChanged += OnLocationChanged;
        await LoadAsync();
    }

    /// <summary>Marks the page interactive (a prerendered page's buttons do nothing until the circuit is up).</summary>
    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender)
        {
            _interactive = true;
            StateHasChanged();
        }
    }

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e) => _ = InvokeAsync(async () =>
    {
        try
        {
            ApplyUrl(e.Location);
            await LoadAsync();
            StateHasChanged();
        }
        catch (Exception exception)
        {
            await DispatchExceptionAsync(exception);
        }
    });

    /// <summary>Reads the moment and the filter from a URL; a bad value is reported and replaced (now, no filter).</summary>
    private void ApplyUrl(string uri)
    {
        var query = new Uri(uri).Query;
        var now = Time.GetUtcNow();
        _filterError = Filter.TryParse(query, out _filter, out var filterError, OwnKeys) ? null : filterError;
        var at = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query).TryGetValue("at", out var values) ? values.ToString() : null;
        _timeError = null;
        if (at is null)
        {
            (_at, _atIsNow) = (now, true);
        }
        else if (HistoryTime.TryParse(at, now, out var parsed, out var error))
        {
            (_at, _atIsNow) = (parsed > now ? now : parsed, false);
        }
        else
        {
            (_at, _atIsNow, _timeError) = (now, true, error);
        }
    }

    private async Task LoadAsync()
    {
        if (Insight.Store is not { } store)
        {
            _loaded = true;
            return;
        }

        var version = ++_loadVersion;
        // The hour up to the moment: 60 whole minutes, the moment's own minute last.
        var from = new DateTimeOffset(_at.UtcTicks - (_at.UtcTicks % TimeSpan.TicksPerMinute), TimeSpan.Zero) - TimeSpan.FromMinutes(59);
        var alive = await store.AliveAtAsync(_at, _filter, ServiceNames, Insight.Pressure.Policy, RowLimit);
        var minutes = await store.PerMinuteAsync(from, _at + TimeSpan.FromMilliseconds(1));
        var lifetimes = await store.LifetimesAsync(from, _at + TimeSpan.FromMilliseconds(1), top: 25);
        var extent = await store.ExtentAsync();
        if (version != _loadVersion)
        {
            return; // a later moment was asked for meanwhile
        }

        (_alive, _minutes, _lifetimes, _extent, _loaded) = (alive, minutes, lifetimes, extent, true);
    }

    private Task OnSliderChanged(double minutesBack) =>
        minutesBack >= 0 ? GoToNowAsync() : GoToAsync(Time.GetUtcNow() + TimeSpan.FromMinutes(minutesBack));

    private Task GoBackAsync(double minutes) => GoToAsync(_at - TimeSpan.FromMinutes(minutes));

    private Task GoToNowAsync() => NavigateAsync(null, _filter);

    private Task GoToAsync(DateTimeOffset at) => NavigateAsync(at, _filter);

    private Task OnTextChanged(string? text) => NavigateAsync(_atIsNow ? null : _at, _filter.WithText(text));

    private Task ClearOtherCriteriaAsync() => NavigateAsync(_atIsNow ? null : _at, Filter.Empty.WithText(_filter.Text));

    /// <summary>Puts the moment and the filter in the URL; the location change loads them (so back and forward work too).</summary>
    private Task NavigateAsync(DateTimeOffset? at, Filter filter)
    {
        var path = new Uri(Navigation.Uri).GetLeftPart(UriPartial.Path);
        var query = filter.ToQueryString();
        if (at is { } moment)
        {
            query = "at=" + Uri.EscapeDataString(HistoryTime.Format(moment)) + (query.Length == 0 ? "" : "&" + query);
        }

        Navigation.NavigateTo(query.Length == 0 ? path : $"{path}?{query}");
        return Task.CompletedTask;
    }

    private static string ProcessText(HistoryRow row) => Display.Owners(row.Socket.Owners);

    private static string StateText(HistoryRow row) =>
        row.FinalState is { } final && final != row.Socket.State
            ? $"{row.Socket.State.ToDisplayName()} → {final.ToDisplayName()}"
            : row.Socket.State.ToDisplayName();

    private string AgeAt(HistoryRow row) => (row.Kind == HistoryKind.OpenAtStart ? "≥ " : "") + Display.Age(_at - row.BornAt);

    private static string ThenText(HistoryRow row) => row.DiedAt switch
    {
        null => "still open",
        { } died when row.DiedUnwatched => $"gone by {died.ToLocalTime():HH:mm:ss} (not watched)",
        { } died => $"closed {died.ToLocalTime():HH:mm:ss}, after {Display.Age(died - row.BornAt)}",
    };

    private static string BucketStyle(ProcessLifetimes process, int bucket)
    {
        var max = process.Counts.Max();
        if (process.Counts[bucket] == 0 || max == 0)
        {
            return "";
        }

        var share = 8 + (int)(40.0 * process.Counts[bucket] / max);
        return string.Create(CultureInfo.InvariantCulture, $"background: color-mix(in srgb, var(--mud-palette-primary) {share}%, transparent)");
    }

    public void Dispose()
    {
        Navigation.LocationChanged -= OnLocationChanged;
        _scope?.Dispose();
        GC.SuppressFinalize(this);
    }
}

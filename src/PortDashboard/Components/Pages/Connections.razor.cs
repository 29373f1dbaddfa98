using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using MudBlazor;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Model;
using PortDashboard.Monitoring;

namespace PortDashboard.Components.Pages;

/// <summary>
/// The live socket table (TCPView's view): summary cards, churn chart, range/protocol/state/text filters that live
/// in the URL, and a virtualized grid fed from <see cref="SocketTable"/>. Batches are applied as they come; the grid
/// reloads at most <see cref="LiveFeedComponent.MinRefreshInterval"/> apart and only renders the rows in view.
/// </summary>
public partial class Connections
{
    /// <summary>Every row has this height (px), so the virtualized grid can place rows without measuring them.</summary>
    public const int RowHeight = 28;

    private static readonly PortRange[] AllRanges = [PortRange.WellKnown, PortRange.Registered, PortRange.Ephemeral];
    private const string GridHeight = "calc(100vh - 262px)";

    private readonly SocketTable _table = new();
    private readonly Func<GridStateVirtualize<SocketRow>, CancellationToken, Task<GridData<SocketRow>>> _loadRows;
    private readonly Func<SocketRow, int, string> _rowClass = static (row, _) => row.CssClass;
    private readonly LiveState _ownLive = new();

    private MudDataGrid<SocketRow>? _grid;
    private Filter _filter = Filter.Empty;
    private FilterException? _filterError;
    private IReadOnlyCollection<PortRange> _selectedRanges = [];
    private IReadOnlyCollection<TransportProtocol> _selectedProtocols = [];
    private IReadOnlyCollection<SocketState> _selectedStates = [];
    private DateTimeOffset _now;
    private int _shown;

    /// <summary>The TCP columns the column picker shows (none by default: they need the netlink reader and a second poll).</summary>
    private IReadOnlyCollection<string> _shownColumns = [];

    public const string ThroughputColumn = "throughput";
    public const string RttColumn = "rtt";
    public const string RetransmitsColumn = "retransmits";

    private static readonly (string Id, string Title)[] OptionalColumns =
    [
        (ThroughputColumn, "Throughput"),
        (RttColumn, "RTT"),
        (RetransmitsColumn, "Retransmits"),
    ];

    public Connections() => _loadRows = LoadRowsAsync;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    /// <summary>The circuit's live/paused state, shown in the header (a private one when rendered without the layout).</summary>
    [CascadingParameter]
    public LiveState? Live { get; set; }

    private LiveState LiveOrOwn => Live ?? _ownLive;

    private bool Paused => LiveOrOwn.IsPaused;

    protected override TimeSpan? IdleRefreshInterval => TimeSpan.FromSeconds(1);

    private string RowCountText => _shown == _table.RowCount
        ? $"{Display.Count(_shown)} sockets"
        : $"{Display.Count(_shown)} of {Display.Count(_table.RowCount)} sockets";

    private string? AttributionNotice
    {
        get
        {
            if (!_table.HasData)
            {
                return null;
            }

            var attribution = _table.Latest.Attribution;
            return attribution.Completeness switch
            {
                AttributionCompleteness.Partial =>
                    $"Process attribution is partial: {attribution.ProcessesSkipped} of {attribution.ProcessesScanned + attribution.ProcessesSkipped} processes could not be read, so some sockets show no process. {attribution.Note}",
                AttributionCompleteness.Unavailable =>
                    $"Sockets are not attributed to processes. {attribution.Note}",
                _ => null,
            };
        }
    }

    /// <summary>The URL's criteria the page has no control for (process, port, address, side), as their query text.</summary>
    private string? OtherCriteria
    {
        get
        {
            var other = (_filter with { Ranges = [], Protocols = [], States = [], Text = null }).ToQueryString();
            return other.Length == 0 ? null : Uri.UnescapeDataString(other).Replace("&", " · ", StringComparison.Ordinal);
        }
    }

    protected override void OnInitialized()
    {
        _now = Time.GetUtcNow();
        ApplyUrl(Navigation.Uri);
        Navigation.LocationChanged += OnLocationChanged;
    }

    protected override bool ApplyBatch(FeedBatch batch, DateTimeOffset now)
    {
        if (Paused)
        {
            return false; // resuming resyncs from the feed's current snapshot
        }

        _table.Churn.UsePollInterval(Feed.Status.PollInterval);
        _table.Apply(batch, now);
        return true;
    }

    protected override bool OnTick(DateTimeOffset now) => _table.Expire(now);

    protected override async Task RefreshViewAsync()
    {
        _now = Time.GetUtcNow();
        if (_grid is not null)
        {
            await _grid.ReloadServerData();
        }

        StateHasChanged();
    }

    private Task<GridData<SocketRow>> LoadRowsAsync(GridStateVirtualize<SocketRow> state, CancellationToken cancellationToken)
    {
        var sortDefinition = state.SortDefinitions.FirstOrDefault();
        var sort = sortDefinition is null ? SocketSort.Default : SocketSort.FromGrid(sortDefinition.SortBy, sortDefinition.Descending);
        var view = _table.View(_filter, sort, ServiceNames);
        _shown = view.Count;
        return Task.FromResult(new GridData<SocketRow>
        {
            Items = SocketTable.Slice(view, state.StartIndex, state.Count),
            TotalItems = view.Count,
        });
    }

    private async Task TogglePauseAsync()
    {
        if (Paused)
        {
            // The feed's current snapshot and its sequence, read together: later deltas apply from exactly there.
            _table.Apply(Feed.CurrentBatch, Time.GetUtcNow());
            LiveOrOwn.SetPaused(false);
        }
        else
        {
            LiveOrOwn.SetPaused(true);
        }

        await RefreshNowAsync();
    }

    private Task OnRangesChanged(IReadOnlyCollection<PortRange>? ranges) => SetFilterAsync(_filter.WithRanges(ranges ?? []));

    private Task OnProtocolsChanged(IReadOnlyCollection<TransportProtocol>? protocols) => SetFilterAsync(_filter.WithProtocols(protocols ?? []));

    private Task OnStatesChanged(IReadOnlyCollection<SocketState>? states) => SetFilterAsync(_filter.WithStates(states ?? []));

    private Task ClearOtherCriteriaAsync() =>
        SetFilterAsync(_filter with { Processes = [], Ports = [], Addresses = [], Side = EndpointSide.Both });

    private Task OnTextChanged(string? text) => SetFilterAsync(_filter.WithText(text), replaceHistory: true);

    /// <summary>Applies a filter chosen on the page and records it in the URL (typing replaces the entry, choosing adds one).</summary>
    private async Task SetFilterAsync(Filter filter, bool replaceHistory = false)
    {
        if (filter.Equals(_filter) && _filterError is null)
        {
            return;
        }

        UseFilter(filter, error: null);
        await RefreshNowAsync();
        var path = new Uri(Navigation.Uri).GetLeftPart(UriPartial.Path);
        var query = filter.ToQueryString();
        Navigation.NavigateTo(query.Length == 0 ? path : $"{path}?{query}", replace: replaceHistory);
    }

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e) => _ = InvokeAsync(async () =>
    {
        try
        {
            if (ApplyUrl(e.Location))
            {
                await RefreshNowAsync();
            }
        }
        catch (Exception exception)
        {
            await DispatchExceptionAsync(exception);
        }
    });

    /// <summary>Reads the filter from a URL (back/forward, a pasted link); a bad query is reported and shows everything.</summary>
    private bool ApplyUrl(string uri)
    {
        var query = new Uri(uri).Query;
        var error = Filter.TryParse(query, out var filter, out var parseError) ? null : parseError;
        if (filter.Equals(_filter) && error?.Message == _filterError?.Message)
        {
            return false;
        }

        UseFilter(filter, error);
        return true;
    }

    private void UseFilter(Filter filter, FilterException? error)
    {
        _filter = filter;
        _filterError = error;
        _selectedRanges = filter.Ranges;
        _selectedProtocols = filter.Protocols;
        _selectedStates = filter.States;
    }

    protected override void OnDisposing()
    {
        Navigation.LocationChanged -= OnLocationChanged;
        LiveOrOwn.SetPaused(false); // pausing is this page's; other pages stay live
    }

    private bool IsShown(string column) => _shownColumns.Contains(column);

    private void OnColumnsChanged(IReadOnlyCollection<string>? columns) => _shownColumns = columns ?? [];

    private static string RttTitle(SocketRow row) => row.Tcp is { } tcp
        ? $"rttvar {Display.Rtt(tcp.RttVarianceMicroseconds / 1000.0)}, cwnd {tcp.CongestionWindow}, lost {tcp.Lost}"
        : "Unknown: no tcp_info for this socket";

    private static Color RangeColor(PortRange range) => range switch
    {
        PortRange.WellKnown => Color.Info,
        PortRange.Registered => Color.Secondary,
        _ => Color.Tertiary,
    };

    private static string StateName(SocketState state) => state.ToDisplayName();

    private static string StatesText(IReadOnlyList<string> states) => string.Join(", ", states);

    private static string StateClass(SocketState state) => "state state-" + state.ToQueryValue();
}

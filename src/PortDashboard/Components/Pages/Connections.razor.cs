using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using MudBlazor;
using PortDashboard.Components.Controls;
using PortDashboard.Core.Filtering;
using PortDashboard.Core.Ports;
using PortDashboard.Core.Sockets;
using PortDashboard.Components.Fleet;
using PortDashboard.Fleet;
using PortDashboard.Model;
using PortDashboard.Monitoring;
using PortDashboard.Naming;

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
    private static readonly OsPortClass[] AllOsClasses = [OsPortClass.Ephemeral, OsPortClass.Privileged];
    private const string GridHeight = "calc(100vh - 262px)";

    /// <summary>The page's own URL parameters, beside the filter's: how rows are grouped, and numbers only (like <c>ss -n</c>).</summary>
    internal const string GroupKey = "group";

    internal const string NumericKey = "numeric";

    /// <summary>Case-insensitive, as the query's own parsing of them (<c>?Group=process</c> groups, it is no filter error).</summary>
    private static readonly HashSet<string> OwnKeys = new([GroupKey, NumericKey], StringComparer.OrdinalIgnoreCase);

    private readonly SocketTable _table = new();
    private readonly Func<GridStateVirtualize<SocketRow>, CancellationToken, Task<GridData<SocketRow>>> _loadRows;
    private readonly Func<SocketRow, int, string> _rowClass;
    private readonly LiveState _ownLive = new();

    /// <summary>With <c>host=</c> naming fleet hosts: one table per host in view, each resynced from the store's record.</summary>
    private readonly Dictionary<string, SocketTable> _hostTables = new(StringComparer.Ordinal);

    /// <summary>The store's record each host table was last brought to (by reference: records are immutable).</summary>
    private readonly Dictionary<string, FleetHost> _hostShown = new(StringComparer.Ordinal);

    private HostScope _scope = default!;

    private MudDataGrid<SocketRow>? _grid;
    private Filter _filter = Filter.Empty;
    private FilterException? _filterError;
    private IReadOnlyCollection<PortRange> _selectedRanges = [];
    private IReadOnlyCollection<OsPortClass> _selectedOsClasses = [];
    private IReadOnlyCollection<TransportProtocol> _selectedProtocols = [];
    private IReadOnlyCollection<SocketState> _selectedStates = [];
    private DateTimeOffset _now;
    private int _shown;
    private SocketGrouping? _grouping;
    private IReadOnlyList<SocketGroup> _groups = [];
    private bool _numeric;
    private string? _groupError;
    private int _namesSeen;
    private Func<NetAddress, string?> _remoteName = static _ => null;

    /// <summary>
    /// The optional columns the column picker shows (none by default: the TCP ones need the netlink reader and a second
    /// poll; namespace and container matter on a machine with containers, with <c>PortDashboard:Namespaces:Enabled</c>).
    /// </summary>
    private IReadOnlyCollection<string> _shownColumns = [];

    public const string ThroughputColumn = "throughput";
    public const string RttColumn = "rtt";
    public const string RetransmitsColumn = "retransmits";
    public const string NamespaceColumn = "netns";
    public const string ContainerColumn = "container";

    private static readonly (string Id, string Title)[] OptionalColumns =
    [
        (ThroughputColumn, "Throughput"),
        (RttColumn, "RTT"),
        (RetransmitsColumn, "Retransmits"),
        (NamespaceColumn, "Namespace"),
        (ContainerColumn, "Container"),
    ];

    public Connections()
    {
        _loadRows = LoadRowsAsync;
        _rowClass = RowClass;
    }

    [Inject]
    private IServiceProvider ServiceProvider { get; set; } = default!;

    /// <summary>The rows come from fleet hosts (the store), not this node's feed.</summary>
    private bool IsFleet => _scope.Selection.IsFleet;

    private bool ShowHostColumn => _scope.Selection.ShowsHostColumn;

    private bool HasData => IsFleet || _table.HasData;

    private int TotalRows => IsFleet ? _hostTables.Values.Sum(t => t.RowCount) : _table.RowCount;

    /// <summary>The table the summary cards, churn chart and top talkers describe: none when several hosts are in view.</summary>
    private SocketTable? OverviewTable => !IsFleet ? _table : _hostTables.Count == 1 ? _hostTables.Values.First() : null;

    private string TitleHost => _scope.TitleHosts ?? _table.Latest.HostName;

    /// <summary>The row's host is in view but not online: its row is its last known state.</summary>
    private bool IsStale(SocketRow row) => IsFleet && _hostShown.TryGetValue(row.Host, out var host) && !host.IsLive;

    private string RowClass(SocketRow row, int index) => IsStale(row) ? row.CssClass + " row-stale" : row.CssClass;

    /// <summary>
    /// Brings the host tables to the store's records of the hosts in view: a host whose record changed is resynced
    /// (diffed: its new, changed and closed rows are highlighted as the local ones). Whether anything changed.
    /// </summary>
    private bool SyncHosts(DateTimeOffset now)
    {
        var selection = _scope.Selection;
        var changed = false;
        foreach (var name in _hostTables.Keys.ToList())
        {
            if (!selection.IsFleet || !selection.Hosts.Any(h => h.Name == name))
            {
                _hostTables.Remove(name);
                _hostShown.Remove(name);
                changed = true;
            }
        }

        foreach (var host in selection.Hosts)
        {
            if (_hostShown.TryGetValue(host.Name, out var shown) && ReferenceEquals(shown, host))
            {
                continue;
            }

            if (!_hostTables.TryGetValue(host.Name, out var table))
            {
                _hostTables[host.Name] = table = new SocketTable();
            }

            table.Resync(host.ToSnapshot(), host.Sequence, now);
            _hostShown[host.Name] = host;
            changed = true;
        }

        return changed;
    }

    /// <summary>The rows in view, sorted: this node's table, or every host table's merged.</summary>
    private IReadOnlyList<SocketRow> CurrentView(SocketSort sort)
    {
        if (!IsFleet)
        {
            return _table.View(_filter, sort, ServiceNames, RemoteNames, Names.Version);
        }

        var rows = new List<SocketRow>();
        foreach (var table in _hostTables.Values)
        {
            rows.AddRange(table.View(_filter, sort, ServiceNames, RemoteNames, Names.Version));
        }

        rows.Sort(sort.Comparison);
        return rows;
    }

    /// <summary>The names of remote addresses (reverse DNS in the background; never waited for).</summary>
    [Inject]
    private AddressNames Names { get; set; } = default!;

    /// <summary>Whether names show beside remote addresses and the free text finds them: on unless configured off or numbers only.</summary>
    private bool ShowNames => Names.Enabled && !_numeric;

    private Func<NetAddress, string?>? RemoteNames => ShowNames ? _remoteName : null;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    /// <summary>The circuit's live/paused state, shown in the header (a private one when rendered without the layout).</summary>
    [CascadingParameter]
    public LiveState? Live { get; set; }

    private LiveState LiveOrOwn => Live ?? _ownLive;

    private bool Paused => LiveOrOwn.IsPaused;

    protected override TimeSpan? IdleRefreshInterval => TimeSpan.FromSeconds(1);

    private RowCount? _rowCount;

    protected override void OnAfterRender(bool firstRender)
    {
        base.OnAfterRender(firstRender);
        if (firstRender)
        {
            _rowCount?.Set(_shown, TotalRows); // counted before the label existed
        }
    }

    /// <summary>Records how many rows the view holds and shows it at once (see <see cref="RowCount"/>).</summary>
    private void CountShown(int shown)
    {
        _shown = shown;
        _rowCount?.Set(shown, TotalRows);
    }

    private string? AttributionNotice
    {
        get
        {
            if (OverviewTable is not { HasData: true } table)
            {
                return null;
            }

            var attribution = table.Latest.Attribution;
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

    /// <summary>The URL's criteria the page has no control for (process, port, address, side, netns, container), as their query text.</summary>
    private string? OtherCriteria
    {
        get
        {
            // With a fleet the host picker shows host=; standalone, it stays among the other criteria as before.
            var hosts = _scope.Store is null ? _filter.Hosts : [];
            var other = (_filter with { Ranges = [], OsClasses = [], Protocols = [], States = [], Text = null, Hosts = hosts }).ToQueryString();
            return other.Length == 0 ? null : Uri.UnescapeDataString(other).Replace("&", " · ", StringComparison.Ordinal);
        }
    }

    protected override void OnInitialized()
    {
        _now = Time.GetUtcNow();
        _table.Ages = Feed.Ages;
        _remoteName = Names.NameOf;
        _scope = new HostScope(ServiceProvider, Navigation, Feed, static () => { });
        ApplyUrl(Navigation.Uri);
        SyncHosts(_now);
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

    /// <summary>Expires highlights, and redraws when names came in since the last look.</summary>
    protected override bool OnTick(DateTimeOffset now)
    {
        var expired = _table.Expire(now);
        foreach (var table in _hostTables.Values)
        {
            expired |= table.Expire(now);
        }

        if (!Paused && _scope.Refresh())
        {
            expired |= SyncHosts(now);
        }

        var names = Names.Version;
        if (!ShowNames || names == _namesSeen)
        {
            return expired;
        }

        _namesSeen = names;
        return true;
    }

    protected override async Task RefreshViewAsync()
    {
        _now = Time.GetUtcNow();
        if (_grouping is { } grouping)
        {
            var view = CurrentView(SocketSort.Default);
            CountShown(view.Count);
            _groups = grouping.Group(view);
        }
        else if (_grid is not null)
        {
            await _grid.ReloadServerData();
        }

        StateHasChanged();
    }

    private Task<GridData<SocketRow>> LoadRowsAsync(GridStateVirtualize<SocketRow> state, CancellationToken cancellationToken)
    {
        var sortDefinition = state.SortDefinitions.FirstOrDefault();
        var sort = sortDefinition is null ? SocketSort.Default : SocketSort.FromGrid(sortDefinition.SortBy, sortDefinition.Descending);
        var view = CurrentView(sort);
        CountShown(view.Count);
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
            _scope.Refresh();
            SyncHosts(Time.GetUtcNow());
            LiveOrOwn.SetPaused(false);
        }
        else
        {
            LiveOrOwn.SetPaused(true);
        }

        await RefreshNowAsync();
    }

    private Task OnRangesChanged(IReadOnlyCollection<PortRange>? ranges) => SetFilterAsync(_filter.WithRanges(ranges ?? []));

    private Task OnOsClassesChanged(IReadOnlyCollection<OsPortClass>? values) => SetFilterAsync(_filter.WithOsClasses(values ?? []));

    private string OsClassTitle(OsPortClass value) => value == OsPortClass.Ephemeral
        ? Display.OsEphemeralTitle(_table.Latest.PortPolicy)
        : Display.PrivilegedTitle(_table.Latest.PortPolicy);

    private Task OnProtocolsChanged(IReadOnlyCollection<TransportProtocol>? protocols) => SetFilterAsync(_filter.WithProtocols(protocols ?? []));

    private Task OnStatesChanged(IReadOnlyCollection<SocketState>? states) => SetFilterAsync(_filter.WithStates(states ?? []));

    private Task ClearOtherCriteriaAsync() =>
        SetFilterAsync(_filter with { Processes = [], Ports = [], Addresses = [], Side = EndpointSide.Both, Namespaces = [], Containers = [] });

    private Task OnTextChanged(string? text) => SetFilterAsync(_filter.WithText(text), replaceHistory: true);

    private Task OnGroupingChanged(string? value)
    {
        var grouping = SocketGrouping.TryParse(value == NoGrouping ? null : value, out var chosen) ? chosen : null;
        return SetViewAsync(_filter, grouping, _numeric);
    }

    private Task OnNumericChanged(bool numeric) => SetViewAsync(_filter, _grouping, numeric);

    /// <summary>The group-by choice's value for no grouping.</summary>
    private const string NoGrouping = "none";

    private string GroupingValue => _grouping?.QueryValue ?? NoGrouping;

    private static string GroupingTitle(string value) =>
        SocketGrouping.TryParse(value == NoGrouping ? null : value, out var grouping) && grouping is not null ? grouping.Title : "No grouping";

    /// <summary>The name beside a row's remote address, or null (numbers only, no name, or not known yet).</summary>
    private string? RemoteNameOf(SocketRow row) => ShowNames && row.HasRemote ? Names.NameOf(row.Socket.Remote.Address) : null;

    /// <summary>The name beside a group's key when the key is a remote address.</summary>
    private string? GroupNameOf(SocketGroup group) =>
        ShowNames && ReferenceEquals(_grouping, SocketGrouping.RemoteAddress) && NetAddress.TryParse(group.Key, out var address)
            ? Names.NameOf(address)
            : null;

    /// <summary>Applies a filter chosen on the page and records it in the URL (typing replaces the entry, choosing adds one).</summary>
    private Task SetFilterAsync(Filter filter, bool replaceHistory = false) => SetViewAsync(filter, _grouping, _numeric, replaceHistory);

    /// <summary>Applies a filter, grouping and numbers-only choice made on the page and records them in the URL.</summary>
    private async Task SetViewAsync(Filter filter, SocketGrouping? grouping, bool numeric, bool replaceHistory = false)
    {
        if (filter.Equals(_filter) && _filterError is null && grouping == _grouping && numeric == _numeric && _groupError is null)
        {
            return;
        }

        UseFilter(filter, error: null);
        (_grouping, _numeric, _groupError) = (grouping, numeric, null);
        await RefreshNowAsync();
        var path = new Uri(Navigation.Uri).GetLeftPart(UriPartial.Path);
        var query = PageQuery(filter, grouping, numeric);
        Navigation.NavigateTo(query.Length == 0 ? path : $"{path}?{query}", replace: replaceHistory);
    }

    /// <summary>The URL query of a view: the filter's canonical form, then <c>group</c> and <c>numeric</c> when set.</summary>
    internal static string PageQuery(Filter filter, SocketGrouping? grouping, bool numeric)
    {
        var parts = new List<string>(3);
        if (filter.ToQueryString() is { Length: > 0 } filterQuery)
        {
            parts.Add(filterQuery);
        }

        if (grouping is not null)
        {
            parts.Add($"{GroupKey}={grouping.QueryValue}");
        }

        if (numeric)
        {
            parts.Add($"{NumericKey}=1");
        }

        return string.Join('&', parts);
    }

    private void OnLocationChanged(object? sender, LocationChangedEventArgs e) => _ = InvokeAsync(async () =>
    {
        try
        {
            var hostsChanged = _scope.Refresh() && SyncHosts(Time.GetUtcNow());
            if (ApplyUrl(e.Location) || hostsChanged)
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
        var error = Filter.TryParse(query, out var filter, out var parseError, OwnKeys) ? null : parseError;
        var (grouping, numeric, groupError) = ParsePageKeys(query);
        if (filter.Equals(_filter) && error?.Message == _filterError?.Message && grouping == _grouping && numeric == _numeric && groupError == _groupError)
        {
            return false;
        }

        UseFilter(filter, error);
        (_grouping, _numeric, _groupError) = (grouping, numeric, groupError);
        return true;
    }

    /// <summary>The page's own keys of a URL query; an unknown <c>group</c> value is reported and groups nothing.</summary>
    internal static (SocketGrouping? Grouping, bool Numeric, string? GroupError) ParsePageKeys(string query)
    {
        var pairs = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(query);
        SocketGrouping? grouping = null;
        string? error = null;
        if (pairs.TryGetValue(GroupKey, out var group) && !SocketGrouping.TryParse(group.ToString(), out grouping))
        {
            error = $"unknown group '{group}'; expected {SocketGrouping.Expected}";
        }

        var numeric = pairs.TryGetValue(NumericKey, out var n) && n.ToString() is "1" or "true" or "yes" or "on";
        return (grouping, numeric, error);
    }

    private void UseFilter(Filter filter, FilterException? error)
    {
        _filter = filter;
        _filterError = error;
        _selectedRanges = filter.Ranges;
        _selectedOsClasses = filter.OsClasses;
        _selectedProtocols = filter.Protocols;
        _selectedStates = filter.States;
    }

    protected override void OnDisposing()
    {
        Navigation.LocationChanged -= OnLocationChanged;
        _scope.Dispose();
        LiveOrOwn.SetPaused(false); // pausing is this page's; other pages stay live
    }

    private bool IsShown(string column) => _shownColumns.Contains(column);

    private void OnColumnsChanged(IReadOnlyCollection<string>? columns) => _shownColumns = columns ?? [];

    /// <summary>The namespace's inode beside its name, when it is known (the host's is, with namespace reading on).</summary>
    private static string NamespaceTitle(SocketRow row) => row.Socket.Namespace.Inode == 0
        ? row.Namespace
        : $"{row.Namespace} ({NetNamespace.InodeName(row.Socket.Namespace.Inode)})";

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

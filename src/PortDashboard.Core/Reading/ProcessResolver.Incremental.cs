using System.Buffers.Text;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using PortDashboard.Core.Sockets;

namespace PortDashboard.Core.Reading;

public sealed partial class ProcessResolver
{
    /// <summary>Descriptors probed above a process's highest known socket descriptor before its whole listing is read instead.</summary>
    private const int ProbesAboveHighest = 32;

    /// <summary>Free slots probed in a row without finding a socket before the rest of a process's are left for the listing.</summary>
    private const int FreeSlotsProbedInARow = 16;

    /// <summary>
    /// In a process's descriptor map: a descriptor that held a socket and was found closed. Kept, since the kernel hands the
    /// lowest free descriptor to the next socket the process opens.
    /// </summary>
    private const long FreeSlot = -1;

    /// <summary>
    /// In a process's descriptor map: a descriptor that a probe found holding a socket the table did not list. Most
    /// often a socket opened between the dump and the probe, which the next call seeks: kept, so that call reads this
    /// descriptor first instead of listing the process. Dropped when a probe finds it unlisted a second time (a Unix
    /// socket, say).
    /// </summary>
    private const long Unsettled = -2;

    /// <summary>The most free descriptor numbers (gaps in a listing) recorded per process as free slots, lowest first.</summary>
    private const int FreeSlotsRecordedPerListing = 4096;

    /// <summary>
    /// The most descriptors of shared sockets re-read per call (see <see cref="ProbeSharedHolders"/>); beyond it the holders
    /// are taken in turns over the next calls, and the full attribution covers the rest.
    /// </summary>
    private const int SharedDescriptorsReadPerCall = 4096;

    private Dictionary<long, ImmutableArray<ProcessInfo>> _owners = [];

    /// <summary>During a full scan: the owners before it, for the sockets that closed since the read (see <see cref="Rebuild"/>).</summary>
    private Dictionary<long, ImmutableArray<ProcessInfo>> _ownersBefore = [];
    private readonly HashSet<long> _unattributed = [];

    /// <summary>Sockets a whole search missed once: sought again at the next call before they join <see cref="_unattributed"/>.</summary>
    private readonly HashSet<long> _missedOnce = [];
    private readonly HashSet<long> _unknown = [];
    private readonly Dictionary<int, TrackedProcess> _tracked = [];
    private readonly List<TrackedProcess> _newcomers = [];
    private readonly List<TrackedProcess> _order = [];
    private readonly List<TrackedProcess> _unreadable = [];
    private readonly HashSet<TrackedProcess> _sharedHolders = [];
    private readonly List<TrackedProcess> _sharedOrder = [];
    private int _sharedTurn;
    private int _sharedBudget;
    private readonly HashSet<long> _holdings = [];
    private readonly List<(int Fd, long Inode)> _probed = [];
    private readonly List<int> _freeSlots = [];
    private readonly Predicate<long> _notWanted;
    private IReadOnlySet<long>? _wantedNow;
    private Func<long, bool>? _isOpen;
    private Action<ISet<long>>? _collectClosed;

    /// <summary>Sockets of the table that the reader says closed since it read them: their descriptors are free, or taken by new sockets.</summary>
    private readonly HashSet<long> _closedSinceRead = [];
    private int _closedBeforeFound;
    private bool _tracking;
    private long _poll;
    private int _processesRead;
    private int _processesListed;
    private int _probedUnknown;
    private TrackedProcess? _probeTarget;
    private (TrackedProcess Tracked, IReadOnlySet<long> Wanted, bool Refused, bool Stopped) _listedProbe;

    /// <summary>
    /// Attributes the inodes in <paramref name="wanted"/> (the whole socket table), keeping what it learnt between calls
    /// and reading only what changed. The first call, and any with <paramref name="fullScan"/>, scans every process as
    /// <see cref="Resolve"/> does; the others:
    /// <list type="number">
    /// <item>list the proc root; a pid that is gone (or whose entry is new: another process took the pid) stops owning
    /// what it held;</item>
    /// <item>forget sockets that left the table;</item>
    /// <item>read every process that appeared since the last call whole: a child inherits its parent's sockets;</item>
    /// <item>look for the inodes still unknown, in processes that held sockets, those that found new ones most recently
    /// first: at the descriptors they freed or that their last listing showed free (a new socket takes the lowest free
    /// descriptor), and just above their highest ones;</item>
    /// <item>ask <paramref name="isOpen"/>, when given, about the inodes still unknown: a socket closed since the table
    /// was read is in no process any more, and searching every process for it would be in vain;</item>
    /// <item>look for the rest at every descriptor the listing of those processes shows that is not known to hold a live
    /// socket; then in whole processes, newest pids first; stop once all are found;</item>
    /// <item>remember the inodes that no readable process holds (kernel sockets, an unreadable process's) so they do not
    /// start a search every call; they are sought again when a full scan comes.</item>
    /// </list>
    /// A socket several processes hold is re-read at each holder's descriptor every call, so one of them closing it is
    /// seen (<see cref="ProbeSharedHolders"/>). Between full scans an owner change that creates no new socket (a socket
    /// passed to another process, or inherited by a process that the listing did not show as new) goes unseen; the caller
    /// runs a full scan on a slower cadence to correct those. The status counts, as a full scan would, the processes the
    /// answer covers, those that cannot be read (as last read) and those that exited while this call read them.
    /// <para>The returned dictionary is the resolver's own: it is valid until the next call.</para>
    /// </summary>
    /// <param name="wanted">The inodes of the socket table.</param>
    /// <param name="fullScan">Read every process, as <see cref="Resolve"/> does.</param>
    /// <param name="isOpen">Whether the socket with this inode is still open (a cheap question to the kernel), asked
    /// before the costly part of the search; false leaves it without owner, as a full scan would.</param>
    /// <param name="closedSinceRead">Adds the inodes of table sockets closed since the table was read (the reader hears of
    /// them from the kernel), asked before the probes and again before the listings. The table is not read atomically: a
    /// socket listed early may close, and a new socket take its descriptor number, before the read ends. Their
    /// descriptors are then probed as freed ones instead of being taken for still holding the closed socket.</param>
    /// <param name="cancellationToken">Stops the scan; the next call is then a full scan.</param>
    public Attribution ResolveIncrementally(
        IReadOnlySet<long> wanted,
        bool fullScan = false,
        Func<long, bool>? isOpen = null,
        Action<ISet<long>>? closedSinceRead = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(wanted);
        if (!OperatingSystem.IsLinux())
        {
            return new Attribution(new Dictionary<long, ImmutableArray<ProcessInfo>>(), NotLinux);
        }

        var listError = ListProcesses();
        if (listError != 0)
        {
            ForgetAll();
            return new Attribution(new Dictionary<long, ImmutableArray<ProcessInfo>>(), CannotList(listError));
        }

        _poll++;
        _processesRead = 0;
        _processesListed = 0;
        _descriptorScan.TakeReadCount();
        _wantedNow = wanted;
        _isOpen = isOpen;
        _collectClosed = closedSinceRead;
        _closedSinceRead.Clear();
        _closedBeforeFound = 0;
        var completed = false;
        try
        {
            var attribution = _tracking && !fullScan ? Update(wanted, cancellationToken) : Rebuild(wanted, cancellationToken);
            completed = true;
            return attribution;
        }
        finally
        {
            _wantedNow = null;
            _isOpen = null;
            _collectClosed = null;
            if (!completed)
            {
                ForgetAll(); // cancelled or failed half way: start over with a full scan
            }
        }
    }

    /// <summary>A process in the proc root, and what it held when last read.</summary>
    private sealed class TrackedProcess(int pid, ulong entryId)
    {
        public int Pid { get; } = pid;

        /// <summary>The inode number of its proc root entry: the kernel gives a new one to a new process behind the pid.</summary>
        public ulong EntryId { get; } = entryId;

        public long SeenInPoll { get; set; }

        /// <summary>The last call that read its whole descriptor listing.</summary>
        public long ReadInPoll { get; set; }

        /// <summary>The last call that found an unknown socket here: recent owners are searched first.</summary>
        public long FoundInPoll { get; set; }

        /// <summary>Who it is, once it held a wanted socket.</summary>
        public KnownProcess? Process { get; set; }

        public bool Unreadable { get; set; }

        public int Errno { get; set; }

        /// <summary>
        /// It has descriptors whose socket left the table or that were found closed (free slots): the next sockets it
        /// opens are likely there.
        /// </summary>
        public bool HasFreed { get; set; }

        /// <summary>
        /// Its wanted socket descriptors as last read, ordered by descriptor number, with their inodes
        /// (<see cref="FreeSlot"/> for one found closed since, <see cref="Unsettled"/> for a socket the table did not list).
        /// </summary>
        public int[] Fds { get; set; } = [];

        public long[] Inodes { get; set; } = [];

        public int Count { get; set; }

        /// <summary>The descriptors marked <see cref="Unsettled"/> in call <see cref="UnsettledInPoll"/>: not dropped when read again in that call.</summary>
        public HashSet<int> UnsettledNow { get; } = [];

        public long UnsettledInPoll { get; set; }

        /// <summary>Marks descriptor <paramref name="fd"/> unsettled in call <paramref name="poll"/>.</summary>
        public void NoteUnsettled(int fd, long poll)
        {
            if (UnsettledInPoll != poll)
            {
                UnsettledNow.Clear();
                UnsettledInPoll = poll;
            }

            UnsettledNow.Add(fd);
        }

        /// <summary>Whether descriptor <paramref name="fd"/> was marked unsettled in an earlier call than <paramref name="poll"/>.</summary>
        public bool UnsettledBefore(int fd, long poll) => InodeAt(fd) == Unsettled && (UnsettledInPoll != poll || !UnsettledNow.Contains(fd));

        /// <summary>Replaces the descriptors with <paramref name="fds"/> and <paramref name="inodes"/> (any order).</summary>
        public void SetDescriptors(List<int> fds, List<long> inodes)
        {
            if (Fds.Length < fds.Count)
            {
                var size = Math.Max(fds.Count, Fds.Length * 2);
                Fds = new int[size];
                Inodes = new long[size];
            }

            CollectionsMarshal.AsSpan(fds).CopyTo(Fds);
            CollectionsMarshal.AsSpan(inodes).CopyTo(Inodes);
            Count = fds.Count;
            Array.Sort(Fds, Inodes, 0, Count); // the kernel lists in order already; other trees may not
        }

        /// <summary>Marks the descriptors <paramref name="free"/> (ascending) with <paramref name="marker"/>, where no other entry is: one merge.</summary>
        public void AddSlots(List<int> free, long marker)
        {
            if (free.Count == 0)
            {
                return;
            }

            var size = Count + free.Count;
            var fds = new int[Math.Max(size, Fds.Length)];
            var inodes = new long[fds.Length];
            int i = 0, j = 0, k = 0;
            while (i < Count || j < free.Count)
            {
                if (j == free.Count || (i < Count && Fds[i] <= free[j]))
                {
                    if (j < free.Count && Fds[i] == free[j])
                    {
                        j++; // known already: keep what is known
                    }

                    (fds[k], inodes[k]) = (Fds[i], Inodes[i]);
                    i++;
                }
                else
                {
                    (fds[k], inodes[k]) = (free[j], marker);
                    j++;
                }

                k++;
            }

            Fds = fds;
            Inodes = inodes;
            Count = k;
        }

        /// <summary>The inode behind descriptor <paramref name="fd"/> as last read; 0 when none is known.</summary>
        public long InodeAt(int fd)
        {
            var at = Array.BinarySearch(Fds, 0, Count, fd);
            return at >= 0 ? Inodes[at] : 0;
        }

        /// <summary>Whether any descriptor holds <paramref name="inode"/>, as last read.</summary>
        public bool Holds(long inode) => Array.IndexOf(Inodes, inode, 0, Count) >= 0;

        /// <summary>Sets descriptor <paramref name="fd"/> to <paramref name="inode"/> (or <see cref="FreeSlot"/>), or removes it when the inode is 0.</summary>
        public void SetDescriptor(int fd, long inode)
        {
            var at = Array.BinarySearch(Fds, 0, Count, fd);
            if (at >= 0)
            {
                if (inode != 0)
                {
                    Inodes[at] = inode;
                    return;
                }

                Array.Copy(Fds, at + 1, Fds, at, Count - at - 1);
                Array.Copy(Inodes, at + 1, Inodes, at, Count - at - 1);
                Count--;
                return;
            }

            if (inode == 0)
            {
                return;
            }

            at = ~at;
            if (Count == Fds.Length)
            {
                var size = Math.Max(4, Fds.Length * 2);
                var fdsGrown = new int[size];
                var inodesGrown = new long[size];
                Array.Copy(Fds, fdsGrown, Count);
                Array.Copy(Inodes, inodesGrown, Count);
                Fds = fdsGrown;
                Inodes = inodesGrown;
            }

            Array.Copy(Fds, at, Fds, at + 1, Count - at);
            Array.Copy(Inodes, at, Inodes, at + 1, Count - at);
            Fds[at] = fd;
            Inodes[at] = inode;
            Count++;
        }
    }

    /// <summary>Scans every process, as <see cref="Resolve"/> does, and remembers what each held.</summary>
    private Attribution Rebuild(IReadOnlySet<long> wanted, CancellationToken cancellationToken)
    {
        foreach (var entry in _listing)
        {
            Track(entry, out _);
        }

        RemoveUnseen();
        (_owners, _ownersBefore) = (_ownersBefore, _owners);
        _owners.Clear();
        _unattributed.Clear();
        _missedOnce.Clear();
        _unknown.Clear();
        var known = new Dictionary<(int, ulong), KnownProcess>(_known.Count);
        var scan = new ScanCounts();
        foreach (var entry in _listing)
        {
            cancellationToken.ThrowIfCancellationRequested();
            BeforeProcessScan?.Invoke(entry.Pid);
            var tracked = _tracked[entry.Pid];
            var outcome = ScanProcess(entry.Pid, wanted, known, out var process, out var errno);
            scan.Count(entry.Pid, outcome, errno);
            if (outcome == ScanOutcome.Vanished)
            {
                _tracked.Remove(entry.Pid);
                continue;
            }

            tracked.Unreadable = outcome == ScanOutcome.Unreadable;
            tracked.Errno = errno;
            tracked.ReadInPoll = _poll;
            tracked.HasFreed = false;
            tracked.Process = process ?? tracked.Process;
            tracked.SetDescriptors(_processFds, _processInodes);
            if (process is not null)
            {
                AppendOwner(_owners, process);
                tracked.HasFreed = RecordFreeSlots(tracked);
            }
        }

        _known = known;

        // A socket closed since the read is in no process now, but the table shows it as it was: it keeps the owners it
        // had (it leaves the table at the next read), instead of flickering to none for one snapshot.
        _collectClosed?.Invoke(_closedSinceRead);
        foreach (var inode in _closedSinceRead)
        {
            if (!_owners.ContainsKey(inode) && _ownersBefore.TryGetValue(inode, out var before))
            {
                _owners[inode] = before;
            }
        }

        _ownersBefore.Clear();
        foreach (var inode in wanted)
        {
            if (!_owners.ContainsKey(inode))
            {
                _unattributed.Add(inode);
            }
        }

        _tracking = true;
        LastScan = new AttributionScan(Full: true, scan.Read, _descriptorScan.TakeReadCount(), wanted.Count);
        return new Attribution(_owners, scan.ToStatus());
    }

    /// <summary>Reads only what changed since the last call; see <see cref="ResolveIncrementally"/>.</summary>
    private Attribution Update(IReadOnlySet<long> wanted, CancellationToken cancellationToken)
    {
        var vanished = 0;

        // 1. Who came and who went.
        _newcomers.Clear();
        foreach (var entry in _listing)
        {
            var tracked = Track(entry, out var isNew);
            if (isNew)
            {
                _newcomers.Add(tracked);
            }
        }

        RemoveUnseen();

        // 2. Sockets that left the table; and the holders of those several processes hold.
        _sharedHolders.Clear();
        foreach (var (inode, owners) in _owners)
        {
            if (!wanted.Contains(inode))
            {
                _owners.Remove(inode);
                foreach (var owner in owners)
                {
                    if (_tracked.TryGetValue(owner.Pid, out var holder))
                    {
                        holder.HasFreed = true;
                    }
                }
            }
            else if (owners.Length > 1)
            {
                foreach (var owner in owners)
                {
                    if (_tracked.TryGetValue(owner.Pid, out var holder) && ReferenceEquals(holder.Process?.Info, owner))
                    {
                        _sharedHolders.Add(holder);
                    }
                }
            }
        }

        _unattributed.RemoveWhere(_notWanted);
        _missedOnce.RemoveWhere(_notWanted);

        // 3. What is new.
        _unknown.Clear();
        foreach (var inode in wanted)
        {
            if (!_owners.ContainsKey(inode) && !_unattributed.Contains(inode))
            {
                _unknown.Add(inode);
            }
        }

        var sought = _unknown.Count;

        // 3b. Shared sockets: one holder closing its descriptor while another keeps the socket open (the parent of a
        // forked worker) changes nothing in the table, so only a read of that descriptor tells.
        if (_sharedHolders.Count > 0)
        {
            CollectClosedSinceRead();
            vanished += ProbeSharedHolders(wanted, cancellationToken);
        }

        // 4. Newcomers, whole: they may hold sockets inherited from their parent, known ones included.
        foreach (var tracked in _newcomers)
        {
            cancellationToken.ThrowIfCancellationRequested();
            BeforeProcessScan?.Invoke(tracked.Pid);
            if (!ReadWhole(tracked, wanted))
            {
                vanished++;
            }
        }

        // 5. The rest of the unknown: where recent owners freed descriptors or opened new ones; then, of those still
        // open, at every descriptor of the recent owners, then in whole processes.
        if (_unknown.Count > 0)
        {
            CollectClosedSinceRead();
            vanished += ProbeRecentOwners(wanted, [ProbeKind.Freed, ProbeKind.AboveHighest], cancellationToken);
        }

        if (_unknown.Count > 0 && _isOpen is { } isOpen)
        {
            _closedBeforeFound += _unknown.RemoveWhere(inode => !isOpen(inode));
        }

        if (_unknown.Count > 0 && CollectClosedSinceRead())
        {
            // Closes heard of since the first probes: their descriptors may hold what is still unknown.
            vanished += ProbeRecentOwners(wanted, [ProbeKind.ClosedSinceRead], cancellationToken);
        }

        if (_unknown.Count > 0)
        {
            vanished += ProbeRecentOwners(wanted, [ProbeKind.Listed], cancellationToken);
        }

        if (_unknown.Count > 0)
        {
            vanished += Search(wanted, cancellationToken);
        }

        LastScan = new AttributionScan(Full: false, _processesRead, _descriptorScan.TakeReadCount(), sought, _processesListed, _closedBeforeFound, _closedSinceRead.Count);
        return new Attribution(_owners, Status(vanished));
    }

    /// <summary>
    /// Adds what the reader heard closed since the read to <see cref="_closedSinceRead"/>: an unknown one is no longer
    /// sought (a full scan now would not find it either), and the holders of a known one have a freed descriptor.
    /// True when any was added.
    /// </summary>
    private bool CollectClosedSinceRead()
    {
        var before = _closedSinceRead.Count;
        _collectClosed?.Invoke(_closedSinceRead);
        if (_closedSinceRead.Count == before)
        {
            return false;
        }

        foreach (var inode in _closedSinceRead)
        {
            if (_unknown.Remove(inode))
            {
                _closedBeforeFound++;
            }
            else if (_owners.TryGetValue(inode, out var owners))
            {
                foreach (var owner in owners)
                {
                    if (_tracked.TryGetValue(owner.Pid, out var holder))
                    {
                        holder.HasFreed = true;
                    }
                }
            }
        }

        return true;
    }

    /// <summary>Whether <paramref name="inode"/> is a socket of the table that has not closed since the read, as far as is known.</summary>
    private bool IsLive(IReadOnlySet<long> wanted, long inode) => wanted.Contains(inode) && !_closedSinceRead.Contains(inode);

    /// <summary>The tracked process for a listed entry, new when the pid is new or now names another process.</summary>
    private TrackedProcess Track(ProcEntry entry, out bool isNew)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_tracked, entry.Pid, out var exists);
        isNew = !exists || slot!.EntryId != entry.EntryId;
        if (isNew)
        {
            if (exists)
            {
                Release(slot!); // the pid now belongs to another process
            }

            slot = new TrackedProcess(entry.Pid, entry.EntryId);
        }

        slot!.SeenInPoll = _poll;
        return slot;
    }

    /// <summary>Drops the processes the last listing did not show.</summary>
    private void RemoveUnseen()
    {
        foreach (var (pid, tracked) in _tracked)
        {
            if (tracked.SeenInPoll != _poll)
            {
                _tracked.Remove(pid);
                Release(tracked);
            }
        }
    }

    /// <summary>A process that exited, or whose pid another took: it owns nothing any more.</summary>
    private void Release(TrackedProcess tracked)
    {
        if (tracked.Process is { } process)
        {
            for (var i = 0; i < tracked.Count; i++)
            {
                RemoveOwner(tracked.Inodes[i], process.Info);
            }

            _known.Remove((process.Info.Pid, process.Info.StartTime));
        }

        tracked.Count = 0;
    }

    /// <summary>Reads a process's whole descriptor listing and makes what it holds now its holdings; false when it exited.</summary>
    private bool ReadWhole(TrackedProcess tracked, IReadOnlySet<long> wanted)
    {
        _processesRead++;
        var outcome = ScanProcess(tracked.Pid, wanted, _known, out var process, out var errno);
        if (outcome == ScanOutcome.Vanished)
        {
            _tracked.Remove(tracked.Pid);
            Release(tracked);
            return false;
        }

        tracked.Unreadable = outcome == ScanOutcome.Unreadable;
        tracked.Errno = errno;
        tracked.ReadInPoll = _poll;
        tracked.HasFreed = false;

        // What it held and holds no more: another process has it now, or nobody readable does.
        _holdings.Clear();
        foreach (var inode in _processInodes)
        {
            _holdings.Add(inode);
        }

        if (tracked.Process is { } before)
        {
            for (var i = 0; i < tracked.Count; i++)
            {
                if (!ReferenceEquals(before, process) || !_holdings.Contains(tracked.Inodes[i]))
                {
                    RemoveOwner(tracked.Inodes[i], before.Info);
                }
            }
        }

        tracked.Process = process ?? tracked.Process;
        tracked.SetDescriptors(_processFds, _processInodes);
        if (process is not null)
        {
            foreach (var inode in _processInodes)
            {
                Found(tracked, inode, process);
            }

            tracked.HasFreed = RecordFreeSlots(tracked);
        }

        return true;
    }

    /// <summary>
    /// Reads single descriptors of processes that held sockets, most recent finders first: those whose sockets closed
    /// (a new socket takes the lowest free descriptor, most often one just freed), then a few above the highest known
    /// one, then, from a listing of the descriptor numbers (cheap: no link is read), every descriptor but those holding a
    /// socket still in the table that this process alone holds. Returns how many processes exited meanwhile.
    /// </summary>
    private int ProbeRecentOwners(IReadOnlySet<long> wanted, ReadOnlySpan<ProbeKind> kinds, CancellationToken cancellationToken)
    {
        _order.Clear();
        foreach (var tracked in _tracked.Values)
        {
            if (tracked.Process is not null && tracked.Count > 0 && !tracked.Unreadable && tracked.ReadInPoll != _poll)
            {
                _order.Add(tracked);
            }
        }

        _order.Sort(RecentFirst);
        var vanished = 0;
        foreach (var probe in kinds)
        {
            foreach (var tracked in _order)
            {
                if (_unknown.Count == 0)
                {
                    return vanished;
                }

                if ((probe is not (ProbeKind.Freed or ProbeKind.ClosedSinceRead) || tracked.HasFreed) && _tracked.ContainsKey(tracked.Pid) && tracked.ReadInPoll != _poll)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    vanished += Probe(tracked, wanted, probe) ? 0 : 1;
                }
            }
        }

        return vanished;
    }

    /// <summary>
    /// Re-reads the descriptors of shared sockets in every process that holds one (<see cref="_sharedHolders"/>), at most
    /// <see cref="SharedDescriptorsReadPerCall"/> per call, the holders taken in turns by pid: a holder that closed its
    /// descriptor, or reused its number, stops owning the socket. Returns how many processes exited meanwhile.
    /// </summary>
    private int ProbeSharedHolders(IReadOnlySet<long> wanted, CancellationToken cancellationToken)
    {
        _sharedOrder.Clear();
        foreach (var holder in _sharedHolders)
        {
            if (!holder.Unreadable && holder.Count > 0)
            {
                _sharedOrder.Add(holder);
            }
        }

        _sharedOrder.Sort(static (a, b) => a.Pid.CompareTo(b.Pid));
        _sharedBudget = SharedDescriptorsReadPerCall;
        var vanished = 0;
        var start = _sharedOrder.Count == 0 ? 0 : _sharedTurn % _sharedOrder.Count;
        for (var i = 0; i < _sharedOrder.Count && _sharedBudget > 0; i++)
        {
            var holder = _sharedOrder[(start + i) % _sharedOrder.Count];
            if (_tracked.ContainsKey(holder.Pid) && holder.ReadInPoll != _poll)
            {
                cancellationToken.ThrowIfCancellationRequested();
                vanished += Probe(holder, wanted, ProbeKind.Shared) ? 0 : 1;
            }

            _sharedTurn = start + i + 1;
        }

        return vanished;
    }

    private enum ProbeKind
    {

        /// <summary>Descriptors whose socket left the table.</summary>
        Freed,

        /// <summary>A few descriptors above the highest known socket descriptor, up to the first free one.</summary>
        AboveHighest,

        /// <summary>Descriptors whose socket closed since the read (heard of after the <see cref="Freed"/> probes).</summary>
        ClosedSinceRead,

        /// <summary>Every listed descriptor but those holding a socket still in the table that the process alone holds.</summary>
        Listed,

        /// <summary>Descriptors of sockets that other processes hold too.</summary>
        Shared,
    }

    /// <summary>
    /// Probes descriptors of one process (see <see cref="ProbeKind"/>) between the opening and the reading of its
    /// <c>stat</c>, so a pid reused meanwhile is noticed; false when it exited.
    /// </summary>
    private bool Probe(TrackedProcess tracked, IReadOnlySet<long> wanted, ProbeKind kind)
    {
        _processesRead++;
        var process = tracked.Process!;
        var prefix = _paths.SetProcess(tracked.Pid);
        var statFile = Libc.OpenRead(_paths.File(prefix, "stat"u8), out var errno);
        if (statFile < 0)
        {
            return !Libc.IsGone(errno) || Gone(tracked);
        }

        try
        {
            _probeTarget = tracked;
            _probed.Clear();
            _probedUnknown = 0;
            var refused = false;
            if (kind == ProbeKind.Freed)
            {
                // Lowest first, as the kernel hands them out; a run of free ones means the rest are most likely free too.
                var freeInARow = 0;
                for (var i = 0; i < tracked.Count && !refused && _probedUnknown < _unknown.Count && freeInARow < FreeSlotsProbedInARow; i++)
                {
                    if (!IsLive(wanted, tracked.Inodes[i]))
                    {
                        refused = !ProbeDescriptor(prefix, tracked.Fds[i], wanted, out var closed);
                        freeInARow = closed ? freeInARow + 1 : 0;
                    }
                }
            }
            else if (kind == ProbeKind.Shared)
            {
                for (var i = 0; i < tracked.Count && !refused && _sharedBudget > 0; i++)
                {
                    if (tracked.Inodes[i] > 0 && _owners.TryGetValue(tracked.Inodes[i], out var owners) && owners.Length > 1)
                    {
                        _sharedBudget--;
                        refused = !ProbeDescriptor(prefix, tracked.Fds[i], wanted, out _);
                    }
                }
            }
            else if (kind == ProbeKind.ClosedSinceRead)
            {
                for (var i = 0; i < tracked.Count && !refused && _probedUnknown < _unknown.Count; i++)
                {
                    if (_closedSinceRead.Contains(tracked.Inodes[i]))
                    {
                        refused = !ProbeDescriptor(prefix, tracked.Fds[i], wanted, out _);
                    }
                }
            }
            else if (kind == ProbeKind.Listed)
            {
                _processesListed++;
                _listedFds.Clear();
                _unlistedSocketFds.Clear(); // a listed probe records those as unsettled itself
                _listedProbe = (tracked, wanted, false, false);
                var listError = Libc.ForEachEntry(_paths.File(prefix, "fd"u8), this, static (name, _, directory, resolver) => resolver.ProbeListed(name, directory), out _);
                refused = _listedProbe.Refused || (listError != 0 && !Libc.IsGone(listError));
                if (!refused && !_listedProbe.Stopped && listError == 0)
                {
                    // Every descriptor was looked at but those holding a socket that only this process holds and that is
                    // still in the table (so still open here): as good as a whole read.
                    tracked.ReadInPoll = _poll;
                }

                _listedProbe = default;
            }
            else if (tracked.Count > 0)
            {
                var fd = tracked.Fds[tracked.Count - 1];
                for (var i = 0; i < ProbesAboveHighest && !refused && _probedUnknown < _unknown.Count; i++)
                {
                    refused = !ProbeDescriptor(prefix, ++fd, wanted, out var closed);
                    if (closed)
                    {
                        break; // descriptors are handed out lowest first: nothing new above a free one, most likely
                    }
                }
            }

            if (refused)
            {
                return true; // no longer readable: left as it was; the next full scan says so
            }

            var statLength = Libc.ReadAll(statFile, ref _statBuffer, out _);
            if (statLength < 0 || !TryParseStartTime(_statBuffer.AsSpan(0, statLength), out var startTime) || startTime != process.Info.StartTime)
            {
                return Gone(tracked);
            }

            var freed = false;
            foreach (var (fd, inode) in _probed)
            {
                var before = tracked.InodeAt(fd);
                tracked.SetDescriptor(fd, inode);
                if (before > 0 && before != inode && !tracked.Holds(before) && !_closedSinceRead.Contains(before))
                {
                    // A shared socket it closed, whose number it reused. One closed since the read keeps its owner: the
                    // table shows it as it was then, and it leaves the table at the next read.
                    RemoveOwner(before, process.Info);
                }

                if (inode > 0)
                {
                    Found(tracked, inode, process);
                }
            }

            if (kind == ProbeKind.Listed)
            {
                RecordFreeSlots(tracked);
            }

            for (var i = 0; i < tracked.Count && !freed; i++)
            {
                freed = !IsLive(wanted, tracked.Inodes[i]);
            }

            tracked.HasFreed = freed;

            return true;
        }
        finally
        {
            Libc.Close(statFile);
        }
    }

    /// <summary>Reads descriptor <paramref name="fd"/> of the current process into <see cref="_probed"/>; false when the kernel refuses.</summary>
    private bool ProbeDescriptor(int prefix, int fd, IReadOnlySet<long> wanted, out bool closed)
    {
        Span<byte> name = stackalloc byte[11];
        Utf8Formatter.TryFormat(fd, name, out var length);
        _paths.File(prefix, "fd"u8);
        return ProbeDescriptor(_paths.Entry(prefix + "fd".Length, name[..length]), fd, wanted, out closed);
    }

    private bool ProbeDescriptor(ReadOnlySpan<byte> path, int fd, IReadOnlySet<long> wanted, out bool closed) =>
        Probed(ReadDescriptor(path, out var inode, out _), inode, fd, wanted, out closed);

    /// <summary>Records what a read of descriptor <paramref name="fd"/> found into <see cref="_probed"/>; false when the kernel refused.</summary>
    private bool Probed(DescriptorRead result, long inode, int fd, IReadOnlySet<long> wanted, out bool closed)
    {
        _descriptorScan.CountRead();
        closed = result == DescriptorRead.Closed;
        if (result == DescriptorRead.Refused)
        {
            return false;
        }

        // A closed descriptor that is in the map stays there as a free slot, and a socket the table did not list is
        // kept as unsettled until a later call finds it unlisted again; others leave the map.
        var socket = result == DescriptorRead.Socket && wanted.Contains(inode) ? inode
            : result == DescriptorRead.Socket ? (_probeTarget!.UnsettledBefore(fd, _poll) ? 0 : Unsettled)
            : closed && Array.BinarySearch(_probeTarget!.Fds, 0, _probeTarget.Count, fd) >= 0 ? FreeSlot
            : 0;
        if (socket == Unsettled)
        {
            _probeTarget!.NoteUnsettled(fd, _poll);
        }

        _probed.Add((fd, socket));
        _probedUnknown += socket != 0 && _unknown.Contains(socket) ? 1 : 0;
        return true;
    }

    /// <summary>One entry of a listed probe: read unless known to hold a socket still in the table; false to stop the listing.</summary>
    private bool ProbeListed(ReadOnlySpan<byte> name, int directory)
    {
        var (tracked, wanted, _, _) = _listedProbe;
        if (!Utf8Parser.TryParse(name, out int fd, out var consumed) || consumed != name.Length)
        {
            return true;
        }

        _listedFds.Add(fd);

        // A socket this process alone holds that is still in the table is still behind this descriptor: closing it
        // would have taken it out of the table, unless it closed while the table was read (then the reader may have
        // heard so). A shared one may have been closed here and live on elsewhere: read.
        var at = Array.BinarySearch(tracked.Fds, 0, tracked.Count, fd);
        if (at >= 0 && _owners.TryGetValue(tracked.Inodes[at], out var owners) && owners.Length == 1 && ReferenceEquals(owners[0], tracked.Process!.Info)
            && !_closedSinceRead.Contains(tracked.Inodes[at]))
        {
            return true;
        }

        if (!Probed(ReadDescriptorAt(directory, name, out var inode, out _), inode, fd, wanted, out _))
        {
            _listedProbe.Refused = true;
            return false;
        }

        _listedProbe.Stopped = _probedUnknown >= _unknown.Count;
        return !_listedProbe.Stopped;
    }

    /// <summary>
    /// Records the numbers missing from the last listing of <paramref name="tracked"/> (<see cref="_listedFds"/>), between
    /// its lowest and highest listed descriptors, as free slots, lowest first and at most <see cref="FreeSlotsRecordedPerListing"/>:
    /// the kernel hands the lowest free number to the next descriptor the process opens, so its next sockets are most
    /// likely there, and a probe reads them instead of listing the process again. The descriptors a whole read found
    /// holding a socket the table did not list (<see cref="_unlistedSocketFds"/>) are recorded as unsettled. Returns
    /// whether it holds any free or unsettled descriptor.
    /// </summary>
    private bool RecordFreeSlots(TrackedProcess tracked)
    {
        var listed = CollectionsMarshal.AsSpan(_listedFds);
        listed.Sort(); // the kernel lists in order already; other trees may not
        _freeSlots.Clear();
        for (var i = 1; i < listed.Length && _freeSlots.Count < FreeSlotsRecordedPerListing; i++)
        {
            // Between listed numbers only: below the lowest are stdin, stdout and stderr, or nothing a socket would take.
            for (var fd = listed[i - 1] + 1; fd < listed[i] && _freeSlots.Count < FreeSlotsRecordedPerListing; fd++)
            {
                _freeSlots.Add(fd);
            }
        }

        _listedFds.Clear();
        tracked.AddSlots(_freeSlots, FreeSlot);
        var unlisted = _unlistedSocketFds;
        unlisted.Sort();
        tracked.AddSlots(unlisted, Unsettled);
        foreach (var fd in unlisted)
        {
            tracked.NoteUnsettled(fd, _poll);
        }

        unlisted.Clear();
        for (var i = 0; i < tracked.Count; i++)
        {
            if (tracked.Inodes[i] < 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads whole processes (those no probe covered in this call) until every unknown inode is found: recent finders
    /// first, then holders of sockets, then the rest, newest pids first. Returns how many exited meanwhile.
    /// </summary>
    private int Search(IReadOnlySet<long> wanted, CancellationToken cancellationToken)
    {
        _order.Clear();
        foreach (var tracked in _tracked.Values)
        {
            if (!tracked.Unreadable && tracked.ReadInPoll != _poll)
            {
                _order.Add(tracked);
            }
        }

        _order.Sort(SearchOrder);
        var vanished = 0;
        foreach (var tracked in _order)
        {
            if (_unknown.Count == 0)
            {
                return vanished;
            }

            cancellationToken.ThrowIfCancellationRequested();
            BeforeProcessScan?.Invoke(tracked.Pid);
            vanished += ReadWhole(tracked, wanted) ? 0 : 1;
        }

        // Every readable process was listed or read in this call and none shows these. Most are held by no readable
        // process (kernel sockets, pid 1's) and a full scan would leave them without owner too; they are remembered, so
        // they start no search until they close or the next full scan. But a listing skips the descriptors of sockets
        // the dump listed, and a dump is not atomic: a socket listed early, then closed, can have its number taken by
        // a new socket listed later, which hides behind it until the next call finds the first gone and probes its
        // descriptor as freed. So a socket is remembered only once a second call misses it too.
        foreach (var inode in _unknown)
        {
            if (!_missedOnce.Add(inode))
            {
                _missedOnce.Remove(inode);
                _unattributed.Add(inode);
            }
        }

        _unknown.Clear();
        return vanished;
    }

    private static readonly Comparison<TrackedProcess> RecentFirst = static (a, b) =>
        a.FoundInPoll != b.FoundInPoll ? b.FoundInPoll.CompareTo(a.FoundInPoll) : b.Pid.CompareTo(a.Pid);

    private static readonly Comparison<TrackedProcess> SearchOrder = static (a, b) =>
        a.FoundInPoll != b.FoundInPoll ? b.FoundInPoll.CompareTo(a.FoundInPoll)
        : (a.Count > 0) != (b.Count > 0) ? (a.Count > 0 ? -1 : 1)
        : b.Pid.CompareTo(a.Pid);

    private bool Gone(TrackedProcess tracked)
    {
        _tracked.Remove(tracked.Pid);
        Release(tracked);
        return false;
    }

    /// <summary><paramref name="process"/> holds <paramref name="inode"/>: an owner, inserted in pid order.</summary>
    private void Found(TrackedProcess tracked, long inode, KnownProcess process)
    {
        if (_unknown.Remove(inode))
        {
            tracked.FoundInPoll = _poll;
        }

        _unattributed.Remove(inode);
        _missedOnce.Remove(inode);
        ref var owners = ref CollectionsMarshal.GetValueRefOrAddDefault(_owners, inode, out var exists);
        if (!exists)
        {
            owners = process.AsSoleOwner;
            return;
        }

        var pid = process.Info.Pid;
        for (var i = 0; i < owners.Length; i++)
        {
            var owner = owners[i];
            if (ReferenceEquals(owner, process.Info))
            {
                return;
            }

            if (owner.Pid == pid)
            {
                owners = owners.SetItem(i, process.Info); // an earlier process with this pid
                return;
            }

            if (owner.Pid > pid)
            {
                owners = owners.Insert(i, process.Info);
                return;
            }
        }

        owners = owners.Add(process.Info);
    }

    /// <summary><paramref name="info"/> no longer holds <paramref name="inode"/>; a socket left with no owner is sought again.</summary>
    private void RemoveOwner(long inode, ProcessInfo info)
    {
        ref var owners = ref CollectionsMarshal.GetValueRefOrNullRef(_owners, inode);
        if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref owners))
        {
            return;
        }

        var at = owners.IndexOf(info, ReferenceEqualityComparer.Instance);
        if (at < 0)
        {
            return;
        }

        if (owners.Length > 1)
        {
            owners = owners.RemoveAt(at);
            return;
        }

        _owners.Remove(inode);
        if (_wantedNow?.Contains(inode) == true)
        {
            _unknown.Add(inode);
        }
    }

    /// <summary>The status of an incremental call: what the tracked processes cover, as a full scan would count it.</summary>
    private AttributionStatus Status(int vanished)
    {
        var counts = new ScanCounts();
        _unreadable.Clear();
        foreach (var tracked in _tracked.Values)
        {
            if (tracked.Unreadable)
            {
                _unreadable.Add(tracked);
            }
            else
            {
                counts.CountCovered();
            }
        }

        _unreadable.Sort(static (a, b) => a.Pid.CompareTo(b.Pid));
        foreach (var tracked in _unreadable)
        {
            counts.CountUnreadable(tracked.Pid, tracked.Errno);
        }

        for (var i = 0; i < vanished; i++)
        {
            counts.CountVanished();
        }

        return counts.ToStatus();
    }

    private void ForgetAll()
    {
        _tracking = false;
        _owners.Clear();
        _ownersBefore.Clear();
        _unattributed.Clear();
        _missedOnce.Clear();
        _unknown.Clear();
        _tracked.Clear();
    }
}

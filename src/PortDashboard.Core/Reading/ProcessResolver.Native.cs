using System.Runtime.InteropServices;
using System.Text;

namespace PortDashboard.Core.Reading;

public sealed partial class ProcessResolver
{
    /// <summary>
    /// Builds NUL-terminated UTF-8 paths under the proc root in one reused buffer:
    /// <c>{root}/{pid}/</c> once per process, then a file name or <c>fd/{n}</c> after it.
    /// </summary>
    private sealed class ProcPaths
    {
        private const int NameMax = 255;

        private readonly byte[] _buffer;
        private readonly int _rootLength;

        public ProcPaths(string procRoot)
        {
            var root = Encoding.UTF8.GetBytes(procRoot.Length > 1 ? procRoot.TrimEnd('/') : procRoot);
            _buffer = new byte[root.Length + 1 + 10 + 1 + "fd/".Length + NameMax + 1];
            root.CopyTo(_buffer, 0);
            _rootLength = root.Length;
        }

        /// <summary>The proc root itself.</summary>
        public ReadOnlySpan<byte> Root()
        {
            _buffer[_rootLength] = 0;
            return _buffer.AsSpan(0, _rootLength + 1);
        }

        /// <summary>Writes <c>{root}/{pid}/</c>; returns its length, the prefix for <see cref="File"/>.</summary>
        public int SetProcess(int pid)
        {
            var length = _rootLength;
            if (length == 0 || _buffer[length - 1] != (byte)'/')
            {
                _buffer[length++] = (byte)'/';
            }

            pid.TryFormat(_buffer.AsSpan(length), out var written, provider: System.Globalization.CultureInfo.InvariantCulture);
            length += written;
            _buffer[length++] = (byte)'/';
            return length;
        }

        /// <summary><c>{root}/{pid}/{name}</c>, NUL-terminated.</summary>
        public ReadOnlySpan<byte> File(int prefix, ReadOnlySpan<byte> name) => Append(prefix, name);

        /// <summary><c>{directory}/{name}</c>, NUL-terminated, where the directory path ends at <paramref name="directoryEnd"/>.</summary>
        public ReadOnlySpan<byte> Entry(int directoryEnd, ReadOnlySpan<byte> name)
        {
            _buffer[directoryEnd] = (byte)'/';
            return Append(directoryEnd + 1, name);
        }

        private ReadOnlySpan<byte> Append(int at, ReadOnlySpan<byte> name)
        {
            name.CopyTo(_buffer.AsSpan(at));
            _buffer[at + name.Length] = 0;
            return _buffer.AsSpan(0, at + name.Length + 1);
        }
    }

    /// <summary>
    /// Visits one directory entry's name (NUL-terminated in memory right after the span) and inode number, with the
    /// listed directory's descriptor for <see cref="Libc.ReadLinkAt"/>; returns false to stop the listing.
    /// </summary>
    private delegate bool EntryVisitor<in TState>(ReadOnlySpan<byte> name, ulong entryId, int directory, TState state);

    /// <summary>
    /// The few libc calls the scan needs, on NUL-terminated byte paths, reporting errno instead of throwing.
    /// Linux only; errno values are the generic Linux ones (x86, ARM).
    /// </summary>
    private static unsafe partial class Libc
    {
        public const int EPERM = 1;
        public const int ENOENT = 2;
        public const int ESRCH = 3;
        public const int EINTR = 4;
        public const int EACCES = 13;
        public const int EINVAL = 22;

        private const int ReadOnly = 0;
        private const int CloseOnExec = 0x80000; // O_CLOEXEC

        /// <summary><c>offsetof(struct dirent64, d_name)</c>: ino (8), off (8), reclen (2), type (1); ino is at 0.</summary>
        private const int DirentNameOffset = 19;

        /// <summary>The process's gone: its directory or files no longer exist, or reads of an open file fail with ESRCH.</summary>
        public static bool IsGone(int errno) => errno is ENOENT or ESRCH;

        public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno);

        /// <summary>Lists a directory (without <c>.</c> and <c>..</c>); returns 0 or the errno that ended it.</summary>
        public static int ForEachEntry<TState>(ReadOnlySpan<byte> path, TState state, EntryVisitor<TState> visit, out bool opened)
        {
            nint directory;
            fixed (byte* p = path)
            {
                directory = OpenDir(p);
            }

            opened = directory != 0;
            if (!opened)
            {
                return Marshal.GetLastPInvokeError();
            }

            var descriptor = DirFd(directory);

            try
            {
                while (true)
                {
                    // The generated stub clears errno before the call: null with errno 0 is the end of the listing.
                    var entry = IntPtr.Size == 8 ? ReadDir(directory) : ReadDir64(directory);
                    if (entry is null)
                    {
                        return Marshal.GetLastPInvokeError();
                    }

                    var name = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(entry + DirentNameOffset);
                    if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
                    {
                        continue;
                    }

                    if (!visit(name, *(ulong*)entry, descriptor, state))
                    {
                        return 0;
                    }
                }
            }
            finally
            {
                _ = CloseDir(directory);
            }
        }

        /// <summary>A link's target into <paramref name="target"/>; its length, or -1 with <paramref name="errno"/>.</summary>
        public static int ReadLink(ReadOnlySpan<byte> path, Span<byte> target, out int errno)
        {
            nint length;
            fixed (byte* p = path)
            fixed (byte* t = target)
            {
                length = ReadLinkNative(p, t, target.Length);
            }

            errno = length < 0 ? Marshal.GetLastPInvokeError() : 0;
            return (int)length;
        }

        /// <summary>
        /// The target of link <paramref name="name"/> in the directory open as <paramref name="directory"/>, into
        /// <paramref name="target"/>; its length, or -1 with <paramref name="errno"/>. Resolves one path component instead
        /// of walking <c>/proc/{pid}/fd/</c> again for every descriptor (about a quarter of the cost of a full scan).
        /// <paramref name="name"/> must be followed by a NUL in memory, as a listed entry's name is.
        /// </summary>
        public static int ReadLinkAt(int directory, ReadOnlySpan<byte> name, Span<byte> target, out int errno)
        {
            nint length;
            fixed (byte* n = name)
            fixed (byte* t = target)
            {
                length = ReadLinkAtNative(directory, n, t, target.Length);
            }

            errno = length < 0 ? Marshal.GetLastPInvokeError() : 0;
            return (int)length;
        }

        /// <summary>Opens a file for reading; the descriptor, or -1 with <paramref name="errno"/>.</summary>
        public static int OpenRead(ReadOnlySpan<byte> path, out int errno)
        {
            while (true)
            {
                int descriptor;
                fixed (byte* p = path)
                {
                    descriptor = Open(p, ReadOnly | CloseOnExec);
                }

                errno = descriptor < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (errno != EINTR)
                {
                    return descriptor;
                }
            }
        }

        /// <summary>Reads to the end into <paramref name="buffer"/>, growing it; the length, or -1 with <paramref name="errno"/>.</summary>
        public static int ReadAll(int descriptor, ref byte[] buffer, out int errno)
        {
            var total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    Array.Resize(ref buffer, buffer.Length * 2);
                }

                nint read;
                fixed (byte* b = buffer)
                {
                    read = ReadNative(descriptor, b + total, buffer.Length - total);
                }

                if (read > 0)
                {
                    total += (int)read;
                    continue;
                }

                errno = read < 0 ? Marshal.GetLastPInvokeError() : 0;
                if (errno == EINTR)
                {
                    continue;
                }

                return read < 0 ? -1 : total;
            }
        }

        public static void Close(int descriptor) => _ = CloseNative(descriptor);

        [LibraryImport("libc", EntryPoint = "opendir", SetLastError = true)]
        private static partial nint OpenDir(byte* path);

        [LibraryImport("libc", EntryPoint = "readdir", SetLastError = true)]
        private static partial byte* ReadDir(nint directory);

        /// <summary>On 32-bit glibc, <c>readdir</c>'s entry has 32-bit fields; <c>readdir64</c>'s has the layout above.</summary>
        [LibraryImport("libc", EntryPoint = "readdir64", SetLastError = true)]
        private static partial byte* ReadDir64(nint directory);

        [LibraryImport("libc", EntryPoint = "closedir")]
        private static partial int CloseDir(nint directory);

        [LibraryImport("libc", EntryPoint = "readlink", SetLastError = true)]
        private static partial nint ReadLinkNative(byte* path, byte* buffer, nint size);

        [LibraryImport("libc", EntryPoint = "readlinkat", SetLastError = true)]
        private static partial nint ReadLinkAtNative(int directory, byte* path, byte* buffer, nint size);

        [LibraryImport("libc", EntryPoint = "dirfd")]
        private static partial int DirFd(nint directory);

        [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
        private static partial int Open(byte* path, int flags);

        [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
        private static partial nint ReadNative(int descriptor, byte* buffer, nint count);

        [LibraryImport("libc", EntryPoint = "close")]
        private static partial int CloseNative(int descriptor);
    }
}

namespace PortDashboard.Core.Reading;

/// <summary>Chooses the best reader this machine offers.</summary>
public static class SocketTableReaders
{
    /// <summary><see cref="ProcNetReader"/> when <c>{procRoot}/net/tcp</c> exists, otherwise <see cref="PortableReader"/>.</summary>
    public static ISocketTableReader CreateDefault(string procRoot) =>
        ProcNetReader.IsAvailable(procRoot) ? new ProcNetReader(procRoot) : new PortableReader();
}

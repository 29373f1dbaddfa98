using PortDashboard.Fuzz;
using SharpFuzz;

// bench/fuzz/run.sh runs this under afl-fuzz: `PortDashboard.Fuzz <target>` reads inputs from AFL++ (persistent mode).
// `PortDashboard.Fuzz <target> <file|dir>...` replays inputs (a seed corpus, a crash) once each and prints any failure.
// Nothing instrumented may run before Fuzzer.Run maps AFL's coverage map (the instrumentation writes into it), so the
// target is looked up by name here and its code first runs inside the loop.
if (args.Length == 0 || !TargetNames.All.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: PortDashboard.Fuzz <{string.Join('|', TargetNames.All)}> [input file or directory ...]");
    return 2;
}

var name = args[0];

if (args.Length == 1)
{
    var buffer = new byte[Targets.MaxInput];
    Fuzzer.Run(stream =>
    {
        var length = 0;
        int read;
        while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
        }

        Targets.Run(name, buffer.AsSpan(0, length).ToArray());
    });
    return 0;
}

// Replaying: give the instrumentation (when the assemblies are instrumented) a coverage map of its own.
Coverage.MapPrivately();
var failures = 0;
var files = args.Skip(1).SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories) : [p]).Order();
var count = 0;
foreach (var file in files)
{
    count++;
    try
    {
        Targets.Run(name, File.ReadAllBytes(file));
    }
    catch (Exception e)
    {
        failures++;
        Console.Error.WriteLine($"{file}: {e.GetType().Name}: {e.Message}");
    }
}

Console.WriteLine($"{args[0]}: {count} inputs replayed, {failures} failed");
return failures == 0 ? 0 : 1;

internal static class Coverage
{
    public static unsafe void MapPrivately() =>
        SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
}

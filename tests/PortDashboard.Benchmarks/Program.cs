using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(PortDashboard.Benchmarks.ProcNetParserBenchmarks).Assembly).Run(args);

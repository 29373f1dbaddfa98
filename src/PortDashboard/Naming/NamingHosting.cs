using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace PortDashboard.Naming;

/// <summary>Registers the pages' reverse DNS (<see cref="AddressNames"/>) and its options.</summary>
public static class NamingHosting
{
    public static IServiceCollection AddPortDashboardNaming(this IServiceCollection services)
    {
        services.AddOptions<ReverseDnsOptions>()
            .Configure<IConfiguration>((options, config) => config.GetSection(ReverseDnsOptions.Section).Bind(options))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ReverseDnsOptions>, ReverseDnsOptionsValidator>();
        services.TryAddSingleton<IReverseDns, SystemReverseDns>();
        services.TryAddSingleton<AddressNames>();
        return services;
    }

    private sealed class ReverseDnsOptionsValidator : IValidateOptions<ReverseDnsOptions>
    {
        public ValidateOptionsResult Validate(string? name, ReverseDnsOptions options)
        {
            var problems = options.Problems().ToList();
            return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
        }
    }
}

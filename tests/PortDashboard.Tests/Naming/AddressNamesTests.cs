using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using PortDashboard.Core.Sockets;
using PortDashboard.Naming;
using PortDashboard.Tests.Support;

namespace PortDashboard.Tests.Naming;

/// <summary>
/// The pages' reverse DNS: never waits, caches names and their absence for their TTLs, runs a bounded number of
/// lookups, and gives up on one after its timeout. The resolver is a fake (nothing leaves the machine).
/// </summary>
public sealed class AddressNamesTests : IAsyncDisposable
{
    private static readonly NetAddress Web = NetAddress.Parse("192.0.2.10");
    private static readonly NetAddress Unnamed = NetAddress.Parse("192.0.2.99");

    private readonly FakeReverseDns _dns = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 5, 1, 12, 0, 0, TimeSpan.Zero));
    private AddressNames? _names;

    private AddressNames Names(Action<ReverseDnsOptions>? configure = null)
    {
        var options = new ReverseDnsOptions { Ttl = TimeSpan.FromMinutes(10), NegativeTtl = TimeSpan.FromMinutes(2), Timeout = TimeSpan.FromSeconds(2) };
        configure?.Invoke(options);
        return _names = new AddressNames(_dns, _time, Options.Create(options), NullLogger<AddressNames>.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        _dns.Release();
        if (_names is not null)
        {
            await _names.DisposeAsync();
        }
    }

    private int AskedFor(NetAddress address) => _dns.Asked.Count(a => a.Equals(address.ToIPAddress()));

    [Fact]
    public async Task An_unknown_address_answers_null_at_once_and_its_name_once_the_lookup_ended()
    {
        _dns.Add("192.0.2.10", "web.example.test");
        _dns.Hold();
        var names = Names();

        Assert.Null(names.NameOf(Web)); // queued, not waited for: the lookup is held
        await Eventually.WaitUntil(() => _dns.Running == 1, "the lookup started");
        Assert.Null(names.NameOf(Web)); // still pending: not asked twice
        var before = names.Version;

        _dns.Release();
        await Eventually.WaitUntil(() => names.NameOf(Web) is not null, "the name arrived");
        Assert.Equal("web.example.test", names.NameOf(Web));
        Assert.True(names.Version > before);
        Assert.Equal(1, AskedFor(Web));
    }

    [Fact]
    public async Task A_name_is_kept_for_its_ttl_then_looked_up_again_showing_the_old_name_meanwhile()
    {
        _dns.Add("192.0.2.10", "web.example.test");
        var names = Names();
        names.NameOf(Web);
        await Eventually.WaitUntil(() => names.NameOf(Web) is not null, "the name arrived");

        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal("web.example.test", names.NameOf(Web));
        Assert.Equal(1, AskedFor(Web));

        _dns.Add("192.0.2.10", "renamed.example.test");
        _time.Advance(TimeSpan.FromMinutes(2)); // past the ten minutes
        Assert.Equal("web.example.test", names.NameOf(Web)); // the old answer while the new lookup runs
        await Eventually.WaitUntil(() => names.NameOf(Web) == "renamed.example.test", "the new name arrived");
        Assert.Equal(2, AskedFor(Web));
    }

    [Fact]
    public async Task An_address_without_a_name_is_not_asked_again_until_the_negative_ttl_passed()
    {
        var names = Names();
        names.NameOf(Unnamed);
        await Eventually.WaitUntil(() => names.Counts.Lookups == 1 && _dns.Running == 0 && names.Version == 1, "the lookup ended");

        for (var i = 0; i < 10; i++)
        {
            Assert.Null(names.NameOf(Unnamed));
        }

        _time.Advance(TimeSpan.FromSeconds(119));
        Assert.Null(names.NameOf(Unnamed));
        Assert.Equal(1, AskedFor(Unnamed));

        _time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(names.NameOf(Unnamed));
        await Eventually.WaitUntil(() => AskedFor(Unnamed) == 2, "the address was asked again after two minutes");
    }

    [Fact]
    public async Task No_more_lookups_run_at_once_than_configured_and_the_rest_wait_their_turn()
    {
        _dns.Hold();
        var names = Names(o => o.MaxConcurrent = 2);
        var addresses = Enumerable.Range(1, 10).Select(i => NetAddress.Parse($"198.51.100.{i}")).ToList();
        foreach (var address in addresses)
        {
            _dns.Add(address.ToString(), $"host{address.ToIPAddress().GetAddressBytes()[3]}.example.test");
            Assert.Null(names.NameOf(address));
        }

        await Eventually.WaitUntil(() => _dns.Running == 2, "two lookups started");
        Assert.Equal(2, _dns.Asked.Count); // the other eight wait in the queue

        _dns.Release();
        await Eventually.WaitUntil(() => addresses.All(a => names.NameOf(a) is not null), "every name arrived");
        Assert.Equal(2, _dns.MaxRunning);
        Assert.Equal("host7.example.test", names.NameOf(addresses[6]));
    }

    [Fact]
    public async Task A_lookup_that_hangs_gives_up_after_the_timeout_is_cached_as_no_name_and_still_holds_its_worker()
    {
        _dns.Hold(); // the fake ignores its token, like a resolver that hangs
        var names = Names(o => o.MaxConcurrent = 1);
        names.NameOf(Web);
        await Eventually.WaitUntil(() => _dns.Running == 1, "the lookup started");

        await Eventually.WaitUntil(() =>
        {
            _time.Advance(TimeSpan.FromMilliseconds(500)); // the timeout's timer may be armed just after the call
            return names.Counts.Timeouts == 1;
        }, "the lookup timed out");
        Assert.Null(names.NameOf(Web));
        Assert.Equal(1, AskedFor(Web)); // timed out: negatively cached, not asked again at once

        // The hung call still occupies the only worker: a second address waits instead of piling up a second call.
        names.NameOf(Unnamed);
        Assert.Equal(1, _dns.Running);
        Assert.Equal(0, AskedFor(Unnamed));

        _dns.Release();
        await Eventually.WaitUntil(() => AskedFor(Unnamed) == 1, "the second lookup ran once the worker was free");
        Assert.Equal(1, _dns.MaxRunning);
    }

    [Fact]
    public async Task Switched_off_or_for_a_wildcard_nothing_is_looked_up()
    {
        _dns.Add("192.0.2.10", "web.example.test");
        await using (var off = new AddressNames(_dns, _time, Options.Create(new ReverseDnsOptions { Enabled = false }), NullLogger<AddressNames>.Instance))
        {
            Assert.False(off.Enabled);
            Assert.Null(off.NameOf(Web));
        }

        var names = Names();
        Assert.Null(names.NameOf(NetAddress.Parse("0.0.0.0")));
        Assert.Null(names.NameOf(NetAddress.Parse("::")));
        names.NameOf(Web);
        await Eventually.WaitUntil(() => names.NameOf(Web) is not null, "the name arrived");
        Assert.Equal(IPAddress.Parse("192.0.2.10"), Assert.Single(_dns.Asked));
    }

    [Fact]
    public async Task An_ipv4_mapped_address_is_named_as_its_ipv4_address()
    {
        _dns.Add("192.0.2.10", "web.example.test");
        var names = Names();
        names.NameOf(NetAddress.Parse("::ffff:192.0.2.10"));
        await Eventually.WaitUntil(() => names.NameOf(Web) is not null, "the name arrived");
        Assert.Equal("web.example.test", names.NameOf(NetAddress.Parse("::ffff:192.0.2.10")));
        Assert.Single(_dns.Asked);
    }

    [Theory]
    [InlineData("Ttl", "00:00:00")]
    [InlineData("Timeout", "00:05:00")]
    [InlineData("MaxConcurrent", "0")]
    [InlineData("QueueCapacity", "0")]
    public void Unusable_options_are_refused_with_the_keys_path(string key, string value)
    {
        var options = new ReverseDnsOptions();
        typeof(ReverseDnsOptions).GetProperty(key)!.SetValue(options, key is "Ttl" or "Timeout" ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));
        var problem = Assert.Single(options.Problems());
        Assert.Contains("PortDashboard:ReverseDns:" + key, problem, StringComparison.Ordinal);
        Assert.Empty(new ReverseDnsOptions().Problems());
    }
}

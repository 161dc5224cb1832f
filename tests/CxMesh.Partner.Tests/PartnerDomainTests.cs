using System.Net;
using CxMesh.Partner.Domain;
using CxMesh.Platform.Security;

namespace CxMesh.Partner.Tests;

public sealed class PartnerDomainTests
{
    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.20.0.5")]
    [InlineData("192.168.1.10")]
    [InlineData("169.254.169.254")]
    [InlineData("100.64.0.1")]
    [InlineData("0.0.0.0")]
    [InlineData("::1")]
    [InlineData("fe80::1")]
    [InlineData("fd00:ec2::254")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("64:ff9b::a9fe:a9fe")] // NAT64 of the metadata address
    [InlineData("64:ff9b::7f00:1")] // NAT64 of loopback
    [InlineData("64:ff9b:1::a00:1")] // local-use NAT64 of 10.0.0.1
    [InlineData("::127.0.0.1")] // IPv4-compatible loopback
    [InlineData("::169.254.169.254")]
    [InlineData("::ffff:0:7f00:1")] // IPv4-translated
    [InlineData("2002:7f00:1::")] // 6to4 of loopback
    [InlineData("2002:a9fe:a9fe::1")] // 6to4 of the metadata address
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2")] // Teredo
    [InlineData("127.1.2.3")]
    public void Webhooks_may_not_point_into_our_own_network(string address) => Assert.True(WebhookAddress.IsForbidden(IPAddress.Parse(address)));

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("172.32.0.1")]
    [InlineData("2606:2800:220:1:248:1893:25c8:1946")]
    [InlineData("64:ff9b::5db8:d822")] // NAT64 of a public address
    [InlineData("2002:5db8:d822::1")] // 6to4 of a public address
    public void Public_addresses_are_fine(string address) => Assert.False(WebhookAddress.IsForbidden(IPAddress.Parse(address)));

    [Fact]
    public void The_peer_band_is_a_quartile_and_needs_three_peers()
    {
        Assert.Null(PeerBand.Of(50, [10, 20]));
        Assert.Equal("top quartile", PeerBand.Of(50, [10, 20, 30, 40]));
        Assert.Equal("bottom quartile", PeerBand.Of(5, [10, 20, 30, 40]));
        Assert.Equal("third quartile", PeerBand.Of(15, [10, 20, 30, 40]));
        Assert.Equal("second quartile", PeerBand.Of(25, [10, 20, 30]));
    }

    [Fact]
    public void Scores_under_k_are_suppressed_entirely()
    {
        var hidden = GuardedScore.Nps(3, 0, 1, k: 5);
        Assert.True(hidden.Suppressed);
        Assert.Equal((0L, 0.0), (hidden.N, hidden.Value));
        var shown = GuardedScore.Nps(200, 120, 80, k: 5);
        Assert.Equal(30, shown.Value, 9);
        Assert.Equal(7.7, shown.Margin, 1);
    }
}

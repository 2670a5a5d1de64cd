using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using X402Serverless.Core.Crypto;
using X402Serverless.Core.Evm;
using X402Serverless.Tests.Permit2;
using X402Serverless.Tests.Support;
using static X402Serverless.Tests.EndToEnd.PaidLinkClient;

namespace X402Serverless.Tests.EndToEnd;

/// <summary>
/// The built-in facilitator pays the settlement's gas, and a payer's code runs inside it: an EIP-7702-delegated EOA
/// (its key still signs, so ecrecover passes) or a contract wallet can burn gas in isValidSignature when the token or
/// Permit2 asks it. Each transfer method has a gas ceiling; above it the payment is refused before anything is sent, and
/// a Permit2 payer holding code is refused as a contract-wallet signature. The code is
/// tests/peers/contracts/TestGasBurner.sol (about 600,000 gas, then "valid"), placed at the payer's address.
/// </summary>
[Collection(ChainGroup.Name)]
public sealed class GasCeilingTests(ChainFixture chain)
{
    [Fact]
    public async Task An_eoa_whose_address_holds_gas_burning_code_is_refused_and_the_gas_wallet_sends_nothing()
    {
        await using var gateway = await GatewayAsync();
        var payerKey = await chain.Permit2PayerAsync(approve: "none");
        var payer = Secp256k1.AddressOf(payerKey);
        await chain.PlaceGasBurnerAsync(payer); // as an EIP-7702 delegation would: the key still signs for the address
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");

        using var response = await SendAsync(link.Url, new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey }.V2Header());

        Assert.Equal("settlement_gas_above_limit", await ErrorOfAsync(response));
        Assert.Equal(0, await SentAsync());
        Assert.Equal(1_000_000, await chain.BalanceAsync(payer));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task After_an_ordinary_transfer_set_the_estimate_later_transfers_are_tried_against_a_burner_and_a_wallet_are_still_refused()
    {
        // The facilitator tries a transfer against the last ordinary estimate before asking the chain: a payer's code
        // must not ride on it, nor a contract wallet's higher ceiling on an EOA's.
        await using var gateway = await GatewayAsync();
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        using (var ordinary = await SendAsync(link.Url,
            new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = await chain.Permit2PayerAsync(approve: "none") }.V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, ordinary.StatusCode);
        }
        Assert.Equal(1, await SentAsync());

        var burnerKey = await chain.Permit2PayerAsync(approve: "none");
        await chain.PlaceGasBurnerAsync(Secp256k1.AddressOf(burnerKey));
        using (var burner = await SendAsync(link.Url, new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = burnerKey }.V2Header()))
        {
            Assert.Equal("settlement_gas_above_limit", await ErrorOfAsync(burner));
        }
        var wallet = Secp256k1.AddressOf(await chain.Permit2PayerAsync(approve: "none"));
        await chain.PlaceGasBurnerAsync(wallet);
        using (var contract = await SendAsync(link.Url,
            new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = RandomNumberGenerator.GetBytes(32), From = wallet }.V2Header()))
        {
            Assert.Equal("settlement_gas_above_limit", await ErrorOfAsync(contract));
        }
        Assert.Equal(1, await SentAsync());
        Assert.Equal(1_000_000, await chain.BalanceAsync(Secp256k1.AddressOf(burnerKey)));
        Assert.Equal(1_000_000, await chain.BalanceAsync(wallet));
    }

    [Fact]
    public async Task A_contract_wallet_whose_check_burns_more_than_its_ceiling_is_refused_and_the_gas_wallet_sends_nothing()
    {
        await using var gateway = await GatewayAsync();
        var wallet = Secp256k1.AddressOf(await chain.Permit2PayerAsync(approve: "none"));
        await chain.PlaceGasBurnerAsync(wallet);
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        // Signed by a key that is not the wallet's: only the wallet's code can vouch for it (and it does, after burning).
        var payment = new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = RandomNumberGenerator.GetBytes(32), From = wallet };

        using var response = await SendAsync(link.Url, payment.V2Header());

        Assert.Equal("settlement_gas_above_limit", await ErrorOfAsync(response));
        Assert.Equal(0, await SentAsync());
        Assert.Equal(1_000_000, await chain.BalanceAsync(wallet));
    }

    [Fact]
    public async Task A_permit2_payer_whose_address_holds_code_is_refused_as_a_contract_wallet_signature_and_the_gas_wallet_sends_nothing()
    {
        await using var gateway = await GatewayAsync();
        var payerKey = await chain.Permit2PayerAsync();
        var payer = Secp256k1.AddressOf(payerKey);
        await chain.PlaceGasBurnerAsync(payer);
        var link = await Permit2LinkAsync(gateway);

        using var response = await SendAsync(link.Url, new Permit2PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = payerKey }.V2Header());

        Assert.Equal("invalid_permit2_signature", await ErrorOfAsync(response));
        Assert.Equal(0, await SentAsync());
        Assert.Equal(1_000_000, await chain.BalanceAsync(payer));
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo));
    }

    [Fact]
    public async Task The_ceilings_are_configurable_per_transfer_method_and_an_estimate_above_one_is_refused_before_sending()
    {
        // Below what an ordinary transfer and an ordinary Permit2 settle take: both are refused, nothing sent.
        await using var gateway = await GatewayAsync(new()
        {
            ["X402:Settlement:MaxTransferGas"] = "30000", ["X402:Settlement:MaxPermit2SettleGas"] = "30000",
        });
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        var eoa = await chain.Permit2PayerAsync(approve: "none");
        using (var response = await SendAsync(link.Url, new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = eoa }.V2Header()))
        {
            Assert.Equal("settlement_gas_above_limit", await ErrorOfAsync(response));
        }
        var permit2Link = await Permit2LinkAsync(gateway);
        var permit2Payer = await chain.Permit2PayerAsync();
        using (var response = await SendAsync(permit2Link.Url,
            new Permit2PaymentBuilder { Requirement = await RequirementAsync(permit2Link.Url), PayerKey = permit2Payer }.V2Header()))
        {
            Assert.Equal("settlement_gas_above_limit", await ErrorOfAsync(response));
        }
        Assert.Equal(0, await SentAsync());
        Assert.Equal(0, await chain.BalanceAsync(link.PayTo) + await chain.BalanceAsync(permit2Link.PayTo));
    }

    [Fact]
    public async Task Under_the_default_ceilings_ordinary_payments_of_each_method_settle()
    {
        await using var gateway = await GatewayAsync();
        var link = await chain.CreateLinkAsync(gateway: gateway, facilitator: "builtin");
        using (var response = await SendAsync(link.Url,
            new PaymentBuilder { Requirement = await RequirementAsync(link.Url), PayerKey = await chain.Permit2PayerAsync(approve: "none") }.V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        var permit2Link = await Permit2LinkAsync(gateway);
        using (var response = await SendAsync(permit2Link.Url,
            new Permit2PaymentBuilder { Requirement = await RequirementAsync(permit2Link.Url), PayerKey = await chain.Permit2PayerAsync() }.V2Header()))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(2, await SentAsync());
    }

    private string _gasWallet = "";

    /// <summary>A gateway with its own fresh gas wallet, so what it sent is its nonce.</summary>
    private async Task<GatewayHost> GatewayAsync(Dictionary<string, string?>? extra = null)
    {
        var settings = chain.GatewaySettings(chain.FacilitatorUrl);
        _gasWallet = await chain.FundedWalletAsync();
        settings["X402:Settlement:GasWalletKey"] = _gasWallet;
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }
        return await GatewayHost.StartAsync(settings);
    }

    /// <summary>Transactions the test gateway's gas wallet sent (mined or waiting).</summary>
    private async Task<int> SentAsync()
    {
        var count = await chain.Rpc.CallAsync("eth_getTransactionCount", Secp256k1.AddressOf(Hex.Decode(_gasWallet)).ToLowerHex(), "pending");
        return (int)Convert.ToInt64(count.GetString(), 16);
    }

    private async Task<PaidTestLink> Permit2LinkAsync(GatewayHost gateway)
    {
        var path = $"/ok/{Guid.NewGuid():N}";
        var payTo = ChainFixture.NewAddress();
        var (id, url) = await gateway.CreateLinkAsync(new
        {
            upstream = chain.Upstream.BaseUrl + path, price = "0.01", payTo = payTo.ToString(), name = "Permit2 API", facilitator = "builtin",
            permit2Networks = new[] { ChainFixture.V2Network },
        });
        return new PaidTestLink(id, url, path, payTo);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Never deployed: its creation code is sent as an eth_call without a recipient (a "deployless" call), and the
/// constructor's answer is the call's result. In one simulated transaction it runs an EIP-6492 signature's factory call
/// (which deploys the wallet) and then the token transfer the payment authorizes, so the node says whether the payment
/// would settle once the wallet exists, without anything being sent. Compiled by tests/peers/compile.mjs; the bytecode
/// in Erc6492Probe.cs must equal build/Erc6492Probe.json's (a test checks).
/// Answer: abi.encode(uint256 outcome, bytes revertData): 0 paid, 1 the factory call reverted, 2 the factory left no
/// code at the wallet's address, 3 the transfer reverted (revertData = the token's revert).
contract Erc6492Probe {
    constructor(address wallet, address factory, bytes memory factoryCalldata, address token, bytes memory transfer, uint256 deployGas) {
        uint256 outcome;
        bytes memory reason;
        (bool deployed,) = factory.call{gas: deployGas}(factoryCalldata);
        if (!deployed) {
            outcome = 1;
        } else if (wallet.code.length == 0) {
            outcome = 2;
        } else {
            (bool paid, bytes memory returned) = token.call(transfer);
            if (!paid) {
                outcome = 3;
                reason = returned;
            }
        }
        bytes memory answer = abi.encode(outcome, reason);
        assembly {
            return(add(answer, 32), mload(answer))
        }
    }
}

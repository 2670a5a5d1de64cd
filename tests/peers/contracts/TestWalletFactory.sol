// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {TestSmartWallet} from "./TestSmartWallet.sol";

/// A CREATE2 factory for the tests' contract wallets, as ERC-4337 account factories are: a wallet's address is known
/// (and can be paid, and can sign, EIP-6492) before it exists, and createWallet deploys it there, once.
contract TestWalletFactory {
    function createWallet(address owner, bytes32 salt) external returns (address wallet) {
        wallet = walletAddress(owner, salt);
        // Deploying twice would revert; a second call answers the wallet that is there, as account factories do.
        if (wallet.code.length == 0) new TestSmartWallet{salt: salt}(owner);
    }

    mapping(uint256 => uint256) private _sink;

    /// The same, after burning far more gas than a deployment may take (the gateway's bound is 1,000,000).
    function createWalletSlowly(address owner, bytes32 salt) external returns (address) {
        for (uint256 i = 1; i <= 100; i++) _sink[i] = i; // 100 fresh slots: over 2,000,000 gas
        return this.createWallet(owner, salt);
    }

    function walletAddress(address owner, bytes32 salt) public view returns (address) {
        bytes32 init = keccak256(abi.encodePacked(type(TestSmartWallet).creationCode, abi.encode(owner)));
        return address(uint160(uint256(keccak256(abi.encodePacked(bytes1(0xff), address(this), salt, init)))));
    }
}

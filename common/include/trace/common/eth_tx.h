// Ethereum transactions: legacy with EIP-155 replay protection, and EIP-1559 (type 2)
// with an empty access list. Builds the signing hash, signs with a secp256k1 key and
// returns the raw bytes eth_sendRawTransaction takes and the transaction hash.
//
// Example:
//   trace::Eip1559Tx tx{.chain_id = 31337, .nonce = 7, .max_priority_fee_per_gas = 1'000'000'000,
//                       .max_fee_per_gas = 30'000'000'000, .gas_limit = 100'000,
//                       .to = contract_address, .data = trace::EncodeAnchorCall(5, root)};
//   trace::SignedTx signed_tx = trace::SignTx(tx, key);
//   client.SendRawTransaction(signed_tx.raw);
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "trace/common/secp256k1.h"
#include "trace/common/status.h"
#include "trace/common/uint256.h"

namespace trace {

struct LegacyTx {
  uint64_t nonce = 0;
  Uint256 gas_price{};
  uint64_t gas_limit = 0;
  std::optional<std::string> to{};  // 20 bytes; nullopt creates a contract
  Uint256 value{};
  std::string data{};
  uint64_t chain_id = 1;  // EIP-155
};

struct Eip1559Tx {
  uint64_t chain_id = 1;
  uint64_t nonce = 0;
  Uint256 max_priority_fee_per_gas{};
  Uint256 max_fee_per_gas{};
  uint64_t gas_limit = 0;
  std::optional<std::string> to{};  // 20 bytes; nullopt creates a contract
  Uint256 value{};
  std::string data{};
};

struct SignedTx {
  std::string raw{};   // the bytes for eth_sendRawTransaction
  std::string hash{};  // 32 bytes: keccak256(raw)
};

// The 32-byte digest that is signed.
std::string SigningHash(const LegacyTx& tx);
std::string SigningHash(const Eip1559Tx& tx);

SignedTx SignTx(const LegacyTx& tx, const Secp256k1PrivateKey& key);
SignedTx SignTx(const Eip1559Tx& tx, const Secp256k1PrivateKey& key);

// The address of the contract that `sender` creates with a transaction of nonce `nonce`:
// the last 20 bytes of keccak256(rlp([sender, nonce])).
std::string CreateAddress(std::string_view sender20, uint64_t nonce);

}  // namespace trace

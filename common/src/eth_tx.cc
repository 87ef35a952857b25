#include "trace/common/eth_tx.h"

#include "trace/common/keccak.h"
#include "trace/common/rlp.h"

namespace trace {
namespace {

std::string To(const std::optional<std::string>& to) { return RlpBytes(to ? *to : std::string()); }

std::vector<std::string> LegacyFields(const LegacyTx& tx) {
  return {RlpUint(tx.nonce), RlpUint(tx.gas_price), RlpUint(tx.gas_limit), To(tx.to), RlpUint(tx.value),
          RlpBytes(tx.data)};
}

std::vector<std::string> Eip1559Fields(const Eip1559Tx& tx) {
  return {RlpUint(tx.chain_id), RlpUint(tx.nonce),     RlpUint(tx.max_priority_fee_per_gas),
          RlpUint(tx.max_fee_per_gas), RlpUint(tx.gas_limit), To(tx.to),
          RlpUint(tx.value),    RlpBytes(tx.data),     RlpList({})};
}

// r and s are RLP integers: without leading zero bytes.
std::string RlpScalar(const std::string& be32) {
  size_t nz = be32.find_first_not_of('\0');
  return RlpBytes(nz == std::string::npos ? std::string() : be32.substr(nz));
}

}  // namespace

std::string SigningHash(const LegacyTx& tx) {
  auto fields = LegacyFields(tx);
  fields.push_back(RlpUint(tx.chain_id));
  fields.push_back(RlpUint(0));
  fields.push_back(RlpUint(0));
  return Keccak256(RlpList(fields));
}

std::string SigningHash(const Eip1559Tx& tx) {
  // Built by appending: GCC 12 reports a false -Wrestrict for `std::string + std::string` here.
  std::string payload = "\x02";
  payload += RlpList(Eip1559Fields(tx));
  return Keccak256(payload);
}

SignedTx SignTx(const LegacyTx& tx, const Secp256k1PrivateKey& key) {
  RecoverableSignature sig = key.Sign(SigningHash(tx));
  auto fields = LegacyFields(tx);
  // EIP-155: v = recovery_id + chain_id * 2 + 35, which may exceed 64 bits only for absurd ids.
  Uint256 v = *Uint256(tx.chain_id).MulSmall(2)->Add(35 + static_cast<uint64_t>(sig.recovery_id));
  fields.push_back(RlpUint(v));
  fields.push_back(RlpScalar(sig.r));
  fields.push_back(RlpScalar(sig.s));
  SignedTx out;
  out.raw = RlpList(fields);
  out.hash = Keccak256(out.raw);
  return out;
}

SignedTx SignTx(const Eip1559Tx& tx, const Secp256k1PrivateKey& key) {
  RecoverableSignature sig = key.Sign(SigningHash(tx));
  auto fields = Eip1559Fields(tx);
  fields.push_back(RlpUint(static_cast<uint64_t>(sig.recovery_id)));
  fields.push_back(RlpScalar(sig.r));
  fields.push_back(RlpScalar(sig.s));
  SignedTx out;
  std::string body = RlpList(fields);
  out.raw.reserve(1 + body.size());
  out.raw.push_back('\x02');
  out.raw.append(body);
  out.hash = Keccak256(out.raw);
  return out;
}

std::string CreateAddress(std::string_view sender20, uint64_t nonce) {
  return Keccak256(RlpList({RlpBytes(sender20), RlpUint(nonce)})).substr(12);
}

}  // namespace trace

#include "eth_chain_client.h"

#include <algorithm>
#include <cctype>

#include "trace/common/abi.h"
#include "trace/common/eth_tx.h"

namespace trace::anchor {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The node refused the transaction because its nonce is spent. Wordings: geth/anvil
// "nonce too low", Besu "Nonce too low"/"NONCE_TOO_LOW", Nethermind "OldNonce", and
// "nonce has already been used".
bool NonceUsed(const std::string& message) {
  std::string m = Lower(message);
  for (const char* s : {"nonce too low", "nonce_too_low", "oldnonce", "already been used"}) {
    if (m.find(s) != std::string::npos) return true;
  }
  return false;
}

// Keeps connection-level codes; anything else the node said becomes Internal, so the
// state machine never reads a node refusal as "nonce used".
Status Transport(const Status& s) {
  switch (s.code()) {
    case StatusCode::kUnavailable:
    case StatusCode::kDeadlineExceeded:
    case StatusCode::kResourceExhausted:
      return Unavailable(s.message());
    case StatusCode::kNotFound:
      return s;
    default:
      return Internal(s.message());
  }
}

Result<std::string> RawHash(const std::string& hex) {
  auto raw = FromHexData(hex, 32);
  if (!raw) return Fail(InvalidArgument("transaction hash " + hex + ": " + raw.error().message()));
  return raw;
}

}  // namespace

EthChainClient::EthChainClient(std::unique_ptr<EthClient> eth, Secp256k1PrivateKey key, std::string contract20,
                               uint64_t chain_id, uint64_t gas_limit)
    : eth_(std::move(eth)),
      key_(std::move(key)),
      contract20_(std::move(contract20)),
      contract_hex_(ToHexData(contract20_)),
      sender_hex_(ToHexData(key_.address())),
      chain_id_(chain_id),
      gas_limit_(gas_limit) {}

Result<std::unique_ptr<EthChainClient>> EthChainClient::Create(const EthChainClientOptions& options) {
  auto key = ReadSecp256k1KeyFile(options.key_file);
  if (!key) return Fail(key.error().WithContext("anchorer key " + options.key_file));
  auto contract = ParseAddress(options.contract);
  if (!contract) return Fail(contract.error().WithContext("contract"));
  auto eth = EthClient::Create(options.rpc_url, {.timeout = options.rpc_timeout});
  if (!eth) return Fail(eth.error().WithContext("chain rpc"));
  auto chain_id = (*eth)->ChainId();
  if (!chain_id) return Fail(Transport(chain_id.error()).WithContext("eth_chainId"));
  return std::unique_ptr<EthChainClient>(
      new EthChainClient(std::move(*eth), std::move(*key), std::move(*contract), *chain_id, options.gas_limit));
}

Result<uint64_t> EthChainClient::NextNonce() {
  auto n = eth_->GetTransactionCount(key_.address(), "pending");
  if (!n) return Fail(Transport(n.error()));
  return n;
}

Result<SignedAnchorTx> EthChainClient::PrepareAnchor(uint64_t tree_size, const Hash& root, uint64_t nonce) {
  auto fees = eth_->SuggestFees();
  if (!fees) return Fail(Transport(fees.error()).WithContext("fees"));
  std::string data = EncodeAnchorCall(tree_size, std::string_view(reinterpret_cast<const char*>(root.data()), root.size()));
  SignedTx signed_tx;
  if (fees->base_fee) {
    signed_tx = SignTx(Eip1559Tx{.chain_id = chain_id_,
                                 .nonce = nonce,
                                 .max_priority_fee_per_gas = fees->max_priority_fee_per_gas,
                                 .max_fee_per_gas = fees->max_fee_per_gas,
                                 .gas_limit = gas_limit_,
                                 .to = contract20_,
                                 .data = std::move(data)},
                       key_);
  } else {
    signed_tx = SignTx(LegacyTx{.nonce = nonce,
                                .gas_price = fees->max_fee_per_gas,
                                .gas_limit = gas_limit_,
                                .to = contract20_,
                                .data = std::move(data),
                                .chain_id = chain_id_},
                       key_);
  }
  return SignedAnchorTx{.tx_hash = ToHexData(signed_tx.hash), .nonce = nonce, .raw = std::move(signed_tx.raw)};
}

Status EthChainClient::Broadcast(const SignedAnchorTx& tx) {
  auto hash = eth_->SendRawTransaction(tx.raw);  // "already known" comes back as success
  if (!hash) {
    if (NonceUsed(hash.error().message())) return FailedPrecondition(hash.error().message());
    return Transport(hash.error());
  }
  if (ToHexData(*hash) != tx.tx_hash) {
    return Internal("eth_sendRawTransaction: node reports hash " + ToHexData(*hash) + ", expected " + tx.tx_hash);
  }
  return OkStatus();
}

Result<std::optional<TxReceipt>> EthChainClient::Receipt(const std::string& tx_hash) {
  auto raw = RawHash(tx_hash);
  if (!raw) return Fail(raw.error());
  auto r = eth_->GetTransactionReceipt(*raw);
  if (!r) return Fail(Transport(r.error()));
  if (!*r) return std::optional<TxReceipt>();
  return std::optional<TxReceipt>(TxReceipt{.block_number = (*r)->block_number,
                                            .block_hash = ToHexData((*r)->block_hash),
                                            .success = (*r)->success,
                                            .gas_used = (*r)->gas_used});
}

Result<bool> EthChainClient::Known(const std::string& tx_hash) {
  auto v = eth_->rpc().Call("eth_getTransactionByHash", {tx_hash});
  if (!v) return Fail(Transport(v.error()));
  return !v->is_null();
}

Result<uint64_t> EthChainClient::BlockNumber() {
  auto n = eth_->BlockNumber();
  if (!n) return Fail(Transport(n.error()));
  return n;
}

Result<std::string> EthChainClient::BlockHash(uint64_t number) {
  auto b = eth_->GetBlockByNumber(number);
  if (!b) return Fail(Transport(b.error()));
  return ToHexData(b->hash);
}

}  // namespace trace::anchor

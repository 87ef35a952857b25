#include "trace/common/eth_client.h"

#include <boost/json.hpp>
#include <cctype>
#include <thread>

#include "trace/common/abi.h"
#include "trace/common/encoding.h"
#include "trace/common/keccak.h"

namespace trace {

namespace json = boost::json;

std::string ToHexData(std::string_view bytes) { return "0x" + HexEncode(bytes); }

Result<std::string> FromHexData(std::string_view text, std::optional<size_t> length) {
  if (!text.starts_with("0x")) return Fail(DataLoss("json-rpc: expected 0x data, got " + std::string(text)));
  auto bytes = HexDecode(text.substr(2));
  if (!bytes) return Fail(DataLoss("json-rpc: bad hex data: " + bytes.error().message()));
  if (length && bytes->size() != *length) {
    return Fail(DataLoss("json-rpc: expected " + std::to_string(*length) + " bytes, got " + std::to_string(bytes->size())));
  }
  return bytes;
}

namespace {

Result<std::string> StringOf(const json::value& v, std::string_view what) {
  if (!v.is_string()) return Fail(DataLoss(std::string(what) + ": expected a string"));
  return std::string(v.as_string());
}

Result<Uint256> QuantityOf(const json::value& v, std::string_view what) {
  auto s = StringOf(v, what);
  if (!s) return Fail(s.error());
  auto q = Uint256::FromHex(*s);
  if (!q) return Fail(DataLoss(std::string(what) + ": " + q.error().message()));
  return q;
}

Result<uint64_t> Uint64Of(const json::value& v, std::string_view what) {
  auto q = QuantityOf(v, what);
  if (!q) return Fail(q.error());
  if (!q->FitsUint64()) return Fail(DataLoss(std::string(what) + ": does not fit 64 bits"));
  return q->Low64();
}

const json::value& Field(const json::object& o, std::string_view key) {
  static const json::value null_value;
  const json::value* v = o.if_contains(key);
  return v ? *v : null_value;
}

Result<std::string> DataOf(const json::value& v, std::string_view what, std::optional<size_t> length = std::nullopt) {
  auto s = StringOf(v, what);
  if (!s) return Fail(s.error());
  auto d = FromHexData(*s, length);
  if (!d) return Fail(d.error().WithContext(what));
  return d;
}

json::object CallObject(const CallRequest& call) {
  json::object o;
  if (call.from) o["from"] = ToHexData(*call.from);
  if (call.to) o["to"] = ToHexData(*call.to);
  o["data"] = ToHexData(call.data);
  if (!call.value.IsZero()) o["value"] = call.value.ToHexQuantity();
  if (call.gas) o["gas"] = Uint256(*call.gas).ToHexQuantity();
  return o;
}

// Adds the decoded Error(string) reason of a revert to the status, when the node sent data.
Status WithRevertReason(Status status, const JsonRpcErrorInfo& info) {
  if (!info.data || !info.data->is_string()) return status;
  auto data = FromHexData(info.data->as_string());
  if (!data) return status;
  auto reason = DecodeRevertReason(*data);
  if (!reason || status.message().find(*reason) != std::string::npos) return status;
  return Status(status.code(), status.message() + ": reverted with \"" + *reason + "\"");
}

Result<BlockInfo> ParseBlock(const json::value& v) {
  if (v.is_null()) return Fail(NotFound("eth_getBlockByNumber: no such block"));
  if (!v.is_object()) return Fail(DataLoss("eth_getBlockByNumber: not an object"));
  const auto& o = v.as_object();
  BlockInfo b;
  auto number = Uint64Of(Field(o, "number"), "block.number");
  if (!number) return Fail(number.error());
  b.number = *number;
  auto hash = DataOf(Field(o, "hash"), "block.hash", 32);
  if (!hash) return Fail(hash.error());
  b.hash = *hash;
  auto parent = DataOf(Field(o, "parentHash"), "block.parentHash", 32);
  if (!parent) return Fail(parent.error());
  b.parent_hash = *parent;
  auto ts = Uint64Of(Field(o, "timestamp"), "block.timestamp");
  if (!ts) return Fail(ts.error());
  b.timestamp = *ts;
  if (const auto& fee = Field(o, "baseFeePerGas"); !fee.is_null()) {
    auto f = QuantityOf(fee, "block.baseFeePerGas");
    if (!f) return Fail(f.error());
    b.base_fee_per_gas = *f;
  }
  return b;
}

Result<TxReceipt> ParseReceipt(const json::object& o) {
  TxReceipt r;
  auto hash = DataOf(Field(o, "transactionHash"), "receipt.transactionHash", 32);
  if (!hash) return Fail(hash.error());
  r.tx_hash = *hash;
  auto status = Uint64Of(Field(o, "status"), "receipt.status");
  if (!status) return Fail(status.error());
  r.success = *status == 1;
  auto number = Uint64Of(Field(o, "blockNumber"), "receipt.blockNumber");
  if (!number) return Fail(number.error());
  r.block_number = *number;
  auto bhash = DataOf(Field(o, "blockHash"), "receipt.blockHash", 32);
  if (!bhash) return Fail(bhash.error());
  r.block_hash = *bhash;
  auto gas = Uint64Of(Field(o, "gasUsed"), "receipt.gasUsed");
  if (!gas) return Fail(gas.error());
  r.gas_used = *gas;
  if (const auto& p = Field(o, "effectiveGasPrice"); !p.is_null()) {
    auto price = QuantityOf(p, "receipt.effectiveGasPrice");
    if (!price) return Fail(price.error());
    r.effective_gas_price = *price;
  }
  if (const auto& c = Field(o, "contractAddress"); !c.is_null()) {
    auto addr = DataOf(c, "receipt.contractAddress", 20);
    if (!addr) return Fail(addr.error());
    r.contract_address = *addr;
  }
  const auto& logs = Field(o, "logs");
  if (!logs.is_array()) return Fail(DataLoss("receipt.logs: expected an array"));
  for (const auto& lv : logs.as_array()) {
    if (!lv.is_object()) return Fail(DataLoss("receipt.logs: expected objects"));
    const auto& l = lv.as_object();
    LogEntry e;
    auto addr = DataOf(Field(l, "address"), "log.address", 20);
    if (!addr) return Fail(addr.error());
    e.address = *addr;
    const auto& topics = Field(l, "topics");
    if (!topics.is_array()) return Fail(DataLoss("log.topics: expected an array"));
    for (const auto& t : topics.as_array()) {
      auto topic = DataOf(t, "log.topics[]", 32);
      if (!topic) return Fail(topic.error());
      e.topics.push_back(*topic);
    }
    auto data = DataOf(Field(l, "data"), "log.data");
    if (!data) return Fail(data.error());
    e.data = *data;
    if (const auto& i = Field(l, "logIndex"); !i.is_null()) {
      auto index = Uint64Of(i, "log.logIndex");
      if (!index) return Fail(index.error());
      e.log_index = *index;
    }
    if (const auto& rm = Field(l, "removed"); rm.is_bool()) e.removed = rm.as_bool();
    r.logs.push_back(std::move(e));
  }
  return r;
}

}  // namespace

Result<std::unique_ptr<EthClient>> EthClient::Create(std::string_view url, JsonRpcOptions options) {
  auto rpc = JsonRpcClient::Create(url, options);
  if (!rpc) return Fail(rpc.error());
  return std::make_unique<EthClient>(std::move(*rpc));
}

Result<uint64_t> EthClient::ChainId() {
  auto v = rpc_->Call("eth_chainId", {});
  if (!v) return Fail(v.error());
  return Uint64Of(*v, "eth_chainId");
}

Result<uint64_t> EthClient::BlockNumber() {
  auto v = rpc_->Call("eth_blockNumber", {});
  if (!v) return Fail(v.error());
  return Uint64Of(*v, "eth_blockNumber");
}

Result<uint64_t> EthClient::GetTransactionCount(std::string_view address20, std::string_view block) {
  auto v = rpc_->Call("eth_getTransactionCount", {ToHexData(address20), block});
  if (!v) return Fail(v.error());
  return Uint64Of(*v, "eth_getTransactionCount");
}

Result<Uint256> EthClient::GasPrice() {
  auto v = rpc_->Call("eth_gasPrice", {});
  if (!v) return Fail(v.error());
  return QuantityOf(*v, "eth_gasPrice");
}

Result<Uint256> EthClient::MaxPriorityFeePerGas() {
  auto v = rpc_->Call("eth_maxPriorityFeePerGas", {});
  if (!v) return Fail(v.error());
  return QuantityOf(*v, "eth_maxPriorityFeePerGas");
}

Result<BlockInfo> EthClient::GetBlockByNumber(std::string_view block) {
  auto v = rpc_->Call("eth_getBlockByNumber", {block, false});
  if (!v) return Fail(v.error());
  return ParseBlock(*v);
}

Result<BlockInfo> EthClient::GetBlockByNumber(uint64_t number) {
  return GetBlockByNumber(Uint256(number).ToHexQuantity());
}

Result<FeeSuggestion> EthClient::SuggestFees() {
  auto block = GetBlockByNumber("latest");
  if (!block) return Fail(block.error());
  FeeSuggestion fees;
  fees.base_fee = block->base_fee_per_gas;
  auto tip = MaxPriorityFeePerGas();
  if (!tip && tip.error().code() != StatusCode::kUnavailable) tip = GasPrice();  // node lacks the method
  if (!tip) return Fail(tip.error());
  if (!fees.base_fee) {
    // No EIP-1559: a legacy gas price, which eth_gasPrice gives.
    auto price = GasPrice();
    if (!price) return Fail(price.error());
    fees.max_priority_fee_per_gas = *price;
    fees.max_fee_per_gas = *price;
    return fees;
  }
  fees.max_priority_fee_per_gas = *tip;
  auto doubled = fees.base_fee->MulSmall(2);
  if (!doubled) return Fail(DataLoss("base fee: " + doubled.error().message()));
  auto max = doubled->Add(*tip);
  if (!max) return Fail(DataLoss("base fee: " + max.error().message()));
  fees.max_fee_per_gas = *max;
  return fees;
}

Result<std::string> EthClient::SendRawTransaction(std::string_view raw) {
  auto v = rpc_->Call("eth_sendRawTransaction", {ToHexData(raw)});
  if (!v) {
    // The node has these exact bytes already (a resend, or a retry after a lost answer):
    // the transaction is submitted, and its hash is keccak256 of the raw bytes.
    // Wordings: geth "already known", Besu "Known transaction", anvil "transaction already
    // imported", Nethermind "AlreadyKnown".
    std::string m = v.error().message();
    for (char& c : m) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* known : {"already known", "known transaction", "already imported", "alreadyknown"}) {
      if (m.find(known) != std::string::npos) return Keccak256(raw);
    }
    return Fail(v.error());
  }
  return DataOf(*v, "eth_sendRawTransaction", 32);
}

Result<std::optional<TxReceipt>> EthClient::GetTransactionReceipt(std::string_view tx_hash32) {
  auto v = rpc_->Call("eth_getTransactionReceipt", {ToHexData(tx_hash32)});
  if (!v) return Fail(v.error());
  if (v->is_null()) return std::optional<TxReceipt>();
  if (!v->is_object()) return Fail(DataLoss("eth_getTransactionReceipt: not an object"));
  // Some nodes answer a pending transaction with a receipt without a block.
  if (Field(v->as_object(), "blockNumber").is_null()) return std::optional<TxReceipt>();
  auto r = ParseReceipt(v->as_object());
  if (!r) return Fail(r.error().WithContext("eth_getTransactionReceipt"));
  return std::optional<TxReceipt>(std::move(*r));
}

Result<TxReceipt> EthClient::WaitForReceipt(std::string_view tx_hash32, std::chrono::milliseconds timeout,
                                            std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto r = GetTransactionReceipt(tx_hash32);
    if (r && *r) return std::move(**r);
    if (!r && r.error().code() != StatusCode::kUnavailable) return Fail(r.error());
    if (std::chrono::steady_clock::now() + poll > deadline) {
      return Fail(DeadlineExceeded("no receipt for " + ToHexData(tx_hash32) + " within " +
                                   std::to_string(timeout.count()) + " ms" +
                                   (r ? std::string() : ": " + r.error().message())));
    }
    std::this_thread::sleep_for(poll);
  }
}

Result<std::string> EthClient::Call(const CallRequest& call, std::string_view block) {
  JsonRpcErrorInfo info;
  auto v = rpc_->Call("eth_call", {CallObject(call), block}, &info);
  if (!v) return Fail(WithRevertReason(v.error(), info));
  return DataOf(*v, "eth_call");
}

Result<std::string> EthClient::GetCode(std::string_view address20, std::string_view block) {
  auto v = rpc_->Call("eth_getCode", {ToHexData(address20), block});
  if (!v) return Fail(v.error());
  return DataOf(*v, "eth_getCode");
}

Result<uint64_t> EthClient::EstimateGas(const CallRequest& call) {
  JsonRpcErrorInfo info;
  auto v = rpc_->Call("eth_estimateGas", {CallObject(call)}, &info);
  if (!v) return Fail(WithRevertReason(v.error(), info));
  return Uint64Of(*v, "eth_estimateGas");
}

Result<SentTx> SignAndSend(EthClient& eth, const Secp256k1PrivateKey& key, const CallRequest& call,
                           const TxOptions& options) {
  SentTx sent;
  uint64_t chain_id = 0;
  if (options.chain_id) {
    chain_id = *options.chain_id;
  } else {
    auto id = eth.ChainId();
    if (!id) return Fail(id.error());
    chain_id = *id;
  }
  if (options.nonce) {
    sent.nonce = *options.nonce;
  } else {
    auto n = eth.GetTransactionCount(key.address(), "pending");
    if (!n) return Fail(n.error());
    sent.nonce = *n;
  }
  if (options.fees) {
    sent.fees = *options.fees;
  } else {
    auto f = eth.SuggestFees();
    if (!f) return Fail(f.error());
    sent.fees = *f;
  }
  if (options.gas_limit) {
    sent.gas_limit = *options.gas_limit;
  } else {
    CallRequest estimate = call;
    estimate.from = key.address();
    estimate.gas.reset();
    auto g = eth.EstimateGas(estimate);
    if (!g) return Fail(g.error());
    sent.gas_limit = *g + *g / 4 + 10'000;
  }
  SignedTx signed_tx;
  if (sent.fees.base_fee) {
    Eip1559Tx tx{.chain_id = chain_id,
                 .nonce = sent.nonce,
                 .max_priority_fee_per_gas = sent.fees.max_priority_fee_per_gas,
                 .max_fee_per_gas = sent.fees.max_fee_per_gas,
                 .gas_limit = sent.gas_limit,
                 .to = call.to,
                 .value = call.value,
                 .data = call.data};
    signed_tx = SignTx(tx, key);
  } else {
    LegacyTx tx{.nonce = sent.nonce,
                .gas_price = sent.fees.max_fee_per_gas,
                .gas_limit = sent.gas_limit,
                .to = call.to,
                .value = call.value,
                .data = call.data,
                .chain_id = chain_id};
    signed_tx = SignTx(tx, key);
  }
  auto hash = eth.SendRawTransaction(signed_tx.raw);
  if (!hash) return Fail(hash.error());
  if (*hash != signed_tx.hash) {
    return Fail(DataLoss("eth_sendRawTransaction: node reports hash " + ToHexData(*hash) + ", expected " +
                         ToHexData(signed_tx.hash)));
  }
  sent.hash = signed_tx.hash;
  sent.raw = std::move(signed_tx.raw);
  return sent;
}

}  // namespace trace

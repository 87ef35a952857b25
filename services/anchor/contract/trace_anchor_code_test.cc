// The contract compiled into the build has exactly PROTOCOL.md §6's interface.
#include "trace/anchor/trace_anchor_code.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <map>

#include "trace/common/abi.h"
#include "trace/common/encoding.h"

namespace trace::anchor {
namespace {

namespace json = boost::json;

// "name(type,type)" of an ABI entry, with " indexed" after indexed event inputs and the
// outputs after "->" for functions.
std::string Describe(const json::object& e) {
  std::string s = std::string(e.at("name").as_string()) + "(";
  bool first = true;
  for (const auto& in : e.at("inputs").as_array()) {
    const auto& o = in.as_object();
    if (!first) s += ",";
    first = false;
    s += o.at("type").as_string();
    if (const auto* idx = o.if_contains("indexed"); idx && idx->as_bool()) s += " indexed";
  }
  s += ")";
  if (const auto* outs = e.if_contains("outputs")) {
    s += "->";
    for (const auto& out : outs->as_array()) {
      s.append(out.at("type").as_string());
      s.push_back(';');
    }
  }
  if (const auto* m = e.if_contains("stateMutability")) {
    s.push_back(' ');
    s.append(m->as_string());
  }
  return s;
}

TEST(TraceAnchorCode, AbiHasTheProtocolInterface) {
  json::array abi = json::parse(TraceAnchorAbiJson()).as_array();
  std::map<std::string, std::string> entries;
  for (const auto& v : abi) {
    const auto& e = v.as_object();
    if (e.at("type") == "constructor") continue;
    entries[std::string(e.at("name").as_string())] = Describe(e);
  }
  EXPECT_EQ(entries["anchor"], "anchor(uint64,bytes32)-> nonpayable");
  EXPECT_EQ(entries["rootAt"], "rootAt(uint64)->bytes32; view");
  EXPECT_EQ(entries["latest"], "latest()->uint64;bytes32; view");
  EXPECT_EQ(entries["Anchored"], "Anchored(uint64 indexed,bytes32,address indexed)");
  // Names of latest()'s outputs, as in the protocol.
  for (const auto& v : abi) {
    const auto& e = v.as_object();
    if (e.contains("name") && e.at("name") == "latest") {
      EXPECT_EQ(e.at("outputs").as_array()[0].at("name"), "treeSize");
      EXPECT_EQ(e.at("outputs").as_array()[1].at("name"), "root");
    }
  }
}

TEST(TraceAnchorCode, BytecodeDispatchesTheSelectors) {
  const std::string& code = TraceAnchorCreationCode();
  ASSERT_GT(code.size(), 100u);
  EXPECT_EQ(HexEncode(code.substr(0, 4)), "60806040");  // solc's free-memory-pointer prologue
  // The dispatcher compares the call's selector with PUSH4 <selector>.
  // (Needles built by appending: GCC 12 warns falsely on `const char* + std::string` here.)
  auto pushed = [](char opcode, const std::string& bytes) {
    std::string needle(1, opcode);
    needle.append(bytes);
    return needle;
  };
  for (const char* sig : {"anchor(uint64,bytes32)", "rootAt(uint64)", "latest()"}) {
    EXPECT_NE(code.find(pushed('\x63', FunctionSelector(sig))), std::string::npos) << sig;
  }
  // The event's topic is pushed with PUSH32.
  EXPECT_NE(code.find(pushed('\x7f', AnchoredEventTopic())), std::string::npos);
  EXPECT_TRUE(TraceAnchorCompilerVersion().starts_with("0.8.37")) << TraceAnchorCompilerVersion();
}

}  // namespace
}  // namespace trace::anchor

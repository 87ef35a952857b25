// The TraceAnchor contract (services/anchor/contract/TraceAnchor.sol) as compiled during the
// build by the pinned solc-js (deploy/package.json): what `trace-admin chain deploy`, the
// stack and the tests deploy.
#pragma once

#include <string>
#include <string_view>

namespace trace::anchor {

// The creation bytecode, raw bytes (the data of a deployment transaction).
const std::string& TraceAnchorCreationCode();
// The contract's ABI as solc prints it (JSON).
std::string_view TraceAnchorAbiJson();
// The solc version that compiled it.
std::string_view TraceAnchorCompilerVersion();

}  // namespace trace::anchor

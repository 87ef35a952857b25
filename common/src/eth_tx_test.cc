// secp256k1 keys, addresses, EIP-155 and EIP-1559 transactions, and the TraceAnchor ABI.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "trace/common/abi.h"
#include "trace/common/encoding.h"
#include "trace/common/eth_tx.h"
#include "trace/common/files.h"
#include "trace/common/keccak.h"
#include "trace/common/rlp.h"
#include "trace/common/secp256k1.h"

namespace trace {
namespace {

constexpr const char* kAnvilKey0 = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

Bytes H(std::string_view hex) {
  if (hex.starts_with("0x")) hex.remove_prefix(2);
  auto b = HexDecode(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or("");
}

Secp256k1PrivateKey Key(std::string_view hex) {
  auto k = Secp256k1PrivateKey::FromHex(hex);
  EXPECT_TRUE(k) << k.error();
  return *k;
}

TEST(Secp256k1, AnvilAccountZeroAddress) {
  EXPECT_EQ(ChecksumAddress(Key(kAnvilKey0).address()), "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
  // anvil's account 1.
  EXPECT_EQ(ChecksumAddress(Key("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d").address()),
            "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
}

TEST(Secp256k1, SignatureMatchesEthersAndRecovers) {
  // ethers 6.x (npm), run once:
  //   new ethers.Wallet('0x46'.repeat(32)).signingKey.sign('0x' + 'ab'.repeat(32))
  // Both use RFC 6979 nonces, so the signatures must be identical.
  auto key = Key("0x4646464646464646464646464646464646464646464646464646464646464646");
  std::string digest(32, '\xab');
  RecoverableSignature sig = key.Sign(digest);
  EXPECT_EQ(HexEncode(sig.r), "ca8359e55297b5b15f7f4473cb0c547ce4226702113f5811128e6c947c79feda");
  EXPECT_EQ(HexEncode(sig.s), "0807231778752c9ee5f929bc28fa75cdec7a2c430f5beca7fc920e5ce3653975");
  EXPECT_EQ(sig.recovery_id, 0);
  EXPECT_EQ(ChecksumAddress(key.address()), "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
  auto who = RecoverAddress(digest, sig);
  ASSERT_TRUE(who) << who.error();
  EXPECT_EQ(*who, key.address());
}

TEST(Secp256k1, LowSAlwaysAndHighSRefused) {
  // n/2 of secp256k1's group order.
  const Bytes half_n = H("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");
  auto key = Key(kAnvilKey0);
  for (int i = 0; i < 64; ++i) {
    std::string digest = Keccak256(std::to_string(i));
    RecoverableSignature sig = key.Sign(digest);
    ASSERT_LE(sig.s, half_n) << i;
    ASSERT_EQ(RecoverAddress(digest, sig).value_or(""), key.address()) << i;
    // Wrong recovery id: a different (or no) address.
    RecoverableSignature flipped = sig;
    flipped.recovery_id ^= 1;
    EXPECT_NE(RecoverAddress(digest, flipped).value_or(""), key.address());
  }
  // The same signature with s' = n - s (high s) must be refused.
  std::string digest = Keccak256("high-s");
  RecoverableSignature sig = key.Sign(digest);
  const Bytes n = H("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
  std::string high(32, '\0');
  int borrow = 0;
  for (int i = 31; i >= 0; --i) {
    int d = static_cast<uint8_t>(n[i]) - static_cast<uint8_t>(sig.s[i]) - borrow;
    borrow = d < 0;
    high[i] = static_cast<char>(d + (borrow ? 256 : 0));
  }
  sig.s = high;
  sig.recovery_id ^= 1;
  EXPECT_FALSE(RecoverAddress(digest, sig));
}

TEST(Secp256k1, RefusesBadKeys) {
  EXPECT_FALSE(Secp256k1PrivateKey::FromHex(std::string(64, '0')));
  EXPECT_FALSE(Secp256k1PrivateKey::FromHex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"));
  EXPECT_FALSE(Secp256k1PrivateKey::FromHex("0x1234"));
  EXPECT_TRUE(Secp256k1PrivateKey::FromHex(std::string(kAnvilKey0) + "\n"));
}

TEST(Secp256k1, Eip55ExamplesFromTheEip) {
  for (const char* a : {"0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
                        "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
                        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
                        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}) {
    auto bytes = ParseAddress(a);
    ASSERT_TRUE(bytes) << a << ": " << bytes.error();
    std::string mixed = ChecksumAddress(*bytes);
    // The all-caps and all-lower examples are valid as they are; their checksum form differs.
    if (std::string_view(a).substr(2) != HexEncode(*bytes) &&
        std::string_view(a).find_first_of("abcdef") != std::string_view::npos) {
      EXPECT_EQ(mixed, a);
    }
    EXPECT_TRUE(ParseAddress(mixed));
  }
  EXPECT_EQ(ChecksumAddress(H("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")), "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
  // One letter's case flipped breaks the checksum.
  EXPECT_FALSE(ParseAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"));
  EXPECT_FALSE(ParseAddress("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA"));
}

TEST(Secp256k1, KeyFileMustBeMode0600) {
  std::string dir = std::filesystem::temp_directory_path() / ("trace_key_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::string path = dir + "/anchorer.key";
  auto key = Key(kAnvilKey0);
  ASSERT_TRUE(WriteSecp256k1KeyFile(path, key).ok());
  EXPECT_EQ(FileMode(path).value_or(0), 0600u);
  auto read = ReadSecp256k1KeyFile(path);
  ASSERT_TRUE(read) << read.error();
  EXPECT_EQ(read->address(), key.address());
  ::chmod(path.c_str(), 0640);
  auto refused = ReadSecp256k1KeyFile(path);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), StatusCode::kPermissionDenied);
  ::chmod(path.c_str(), 0600);
  ASSERT_TRUE(WriteFileAtomic(path, "not a key\n", 0600).ok());
  EXPECT_FALSE(ReadSecp256k1KeyFile(path));
  EXPECT_FALSE(ReadSecp256k1KeyFile(dir + "/missing.key"));
  std::filesystem::remove_all(dir);
}

TEST(EthTx, Eip155ExampleFromTheEip) {
  LegacyTx tx;
  tx.nonce = 9;
  tx.gas_price = 20'000'000'000;
  tx.gas_limit = 21000;
  tx.to = H("3535353535353535353535353535353535353535");
  tx.value = *Uint256::FromDecimal("1000000000000000000");
  tx.chain_id = 1;
  EXPECT_EQ(HexEncode(SigningHash(tx)), "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53");
  SignedTx signed_tx = SignTx(tx, Key("0x4646464646464646464646464646464646464646464646464646464646464646"));
  EXPECT_EQ("0x" + HexEncode(signed_tx.raw),
            "0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef6134"
            "0bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc"
            "64214b297fb1966a3b6d83");
  EXPECT_EQ(signed_tx.hash, Keccak256(signed_tx.raw));
}

TEST(EthTx, Eip1559MatchesEthers) {
  // ethers 6.x (npm), run once:
  //   const tx = ethers.Transaction.from({type: 2, chainId: 31337, nonce: 7,
  //     maxPriorityFeePerGas: 1500000000n, maxFeePerGas: 30000000000n, gasLimit: 100000,
  //     to: '0x3535353535353535353535353535353535353535', value: 1n,
  //     data: iface.encodeFunctionData('anchor', [5n, '0x' + '11'.repeat(32)])});
  //   tx.signature = new ethers.Wallet(anvilKey0).signingKey.sign(tx.unsignedHash);
  //   tx.unsignedHash, tx.serialized, tx.hash
  Eip1559Tx tx;
  tx.chain_id = 31337;
  tx.nonce = 7;
  tx.max_priority_fee_per_gas = 1'500'000'000;
  tx.max_fee_per_gas = 30'000'000'000;
  tx.gas_limit = 100'000;
  tx.to = H("3535353535353535353535353535353535353535");
  tx.value = 1;
  tx.data = EncodeAnchorCall(5, std::string(32, '\x11'));
  EXPECT_EQ(HexEncode(SigningHash(tx)), "5c05c65b9bb4584923e25761d291144807bde88727bc2176cf9a6e302224f392");
  SignedTx s = SignTx(tx, Key(kAnvilKey0));
  EXPECT_EQ(HexEncode(s.raw),
            "02f8b3827a69078459682f008506fc23ac00830186a094353535353535353535353535353535353535353501b844a6855208"
            "00000000000000000000000000000000000000000000000000000000000000051111111111111111111111111111111111"
            "111111111111111111111111111111c080a0c82b4d6e6d62481a5ac83a87717a894c4cbac85e3af570e2b888dfa3828b9e"
            "bda03d860d0b2ac228718a9d6c609b9fea5339789ae806ce6ff8e606e540e905e99f");
  EXPECT_EQ(HexEncode(s.hash), "4d5f8d1a42af9b5c0429e7d8efc76ecb20b892abe7e03f3688336c5550324914");

  // A contract creation (no `to`) with a fee above 64 bits, same ethers session:
  //   {type: 2, chainId: 1, nonce: 0, maxPriorityFeePerGas: 0n,
  //    maxFeePerGas: 123456789012345678901234567890n, gasLimit: 3000000, to: null, value: 0n,
  //    data: '0x6080604052'}
  Eip1559Tx create;
  create.chain_id = 1;
  create.max_fee_per_gas = *Uint256::FromDecimal("123456789012345678901234567890");
  create.gas_limit = 3'000'000;
  create.data = H("6080604052");
  SignedTx c = SignTx(create, Key(kAnvilKey0));
  EXPECT_EQ(HexEncode(c.raw),
            "02f8610180808d018ee90ff6c373e0ee4e3f0ad2832dc6c08080856080604052c001a0621af1f5ca0613ccde130783617b11"
            "81b40ae6fd3a361ecd604928bae203febfa03f57f7d3dde07d42b38c406539d733a7bf6cacf5aa2cb826555132f17f3ba8e1");
  EXPECT_EQ(HexEncode(c.hash), "5633c644faa53b46374887c799690564c4bcb04fcbaeb77f731c2a027251d155");
  // The raw bytes decode strictly as RLP after the type byte.
  auto decoded = RlpDecode(std::string_view(c.raw).substr(1));
  ASSERT_TRUE(decoded) << decoded.error();
  EXPECT_EQ(decoded->list.size(), 12u);
}

TEST(EthTx, CreateAddress) {
  // anvil account 0's first contract lands at this well-known address (nonce 0).
  EXPECT_EQ(ChecksumAddress(CreateAddress(Key(kAnvilKey0).address(), 0)), "0x5FbDB2315678afecb367f032d93F642f64180aa3");
}

TEST(Abi, SelectorsAndCallDataMatchEthers) {
  // ethers 6.x: ethers.id(signature) and Interface.encodeFunctionData.
  EXPECT_EQ(HexEncode(FunctionSelector("anchor(uint64,bytes32)")), "a6855208");
  EXPECT_EQ(HexEncode(FunctionSelector("rootAt(uint64)")), "eaa38b41");
  EXPECT_EQ(HexEncode(FunctionSelector("latest()")), "52bfe789");
  EXPECT_EQ(HexEncode(AnchoredEventTopic()), "70878238987665fce2e1dd4700d75f27ab37f288b340423549c1cf3998e05500");
  EXPECT_EQ(HexEncode(EncodeAnchorCall(5, std::string(32, '\x11'))),
            "a68552080000000000000000000000000000000000000000000000000000000000000005"
            "1111111111111111111111111111111111111111111111111111111111111111");
  EXPECT_EQ(HexEncode(EncodeRootAtCall(5)), "eaa38b410000000000000000000000000000000000000000000000000000000000000005");
  EXPECT_EQ(HexEncode(EncodeLatestCall()), "52bfe789");
}

TEST(Abi, DecodesResultsAndEvents) {
  std::string root(32, '\x22');
  auto latest = DecodeLatestResult(AbiWord(42) + root);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->tree_size, 42u);
  EXPECT_EQ(latest->root, root);
  EXPECT_FALSE(DecodeLatestResult(AbiWord(42)));
  std::string big(32, '\0');
  big[0] = 1;
  EXPECT_FALSE(DecodeLatestResult(big + root));
  EXPECT_EQ(DecodeRootAtResult(root).value_or(""), root);

  std::string anchorer = H("f39fd6e51aad88f6f4ce6ab8827279cfffb92266");
  std::vector<std::string> topics = {AnchoredEventTopic(), AbiWord(5), std::string(12, '\0') + anchorer};
  auto ev = DecodeAnchoredEvent(topics, root);
  ASSERT_TRUE(ev) << ev.error();
  EXPECT_EQ(ev->tree_size, 5u);
  EXPECT_EQ(ev->root, root);
  EXPECT_EQ(ev->anchorer, anchorer);
  topics[0] = EventTopic("Other()");
  EXPECT_FALSE(DecodeAnchoredEvent(topics, root));

  // Error("treeSize must grow") as solc encodes it.
  std::string reason = "treeSize must grow";
  std::string padded = reason + std::string(32 - reason.size(), '\0');
  auto r = DecodeRevertReason(FunctionSelector("Error(string)") + AbiWord(32) + AbiWord(reason.size()) + padded);
  EXPECT_EQ(r.value_or(""), reason);
  EXPECT_FALSE(DecodeRevertReason(""));
}

}  // namespace
}  // namespace trace

// The STUN codec: the Binding Request's exact bytes, XOR-MAPPED-ADDRESS and
// MAPPED-ADDRESS decoding for IPv4 and IPv6, ERROR-CODE, and refusal of every kind of
// malformed datagram with a reason — including every truncation of a valid response.
#include "probe/stun/stun_message.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace vigil {
namespace {

const StunTransactionId kId = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};

std::string Bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out += static_cast<char>(v);
  return out;
}

std::string Attribute(uint16_t type, const std::string& value) {
  std::string out = Bytes({type >> 8, type & 0xff, static_cast<int>(value.size() >> 8),
                           static_cast<int>(value.size() & 0xff)});
  out += value;
  while (out.size() % 4 != 0) out += '\0';
  return out;
}

std::string Message(uint16_t type, const std::string& attributes,
                    const StunTransactionId& id = kId) {
  std::string out = Bytes({type >> 8, type & 0xff, static_cast<int>(attributes.size() >> 8),
                           static_cast<int>(attributes.size() & 0xff), 0x21, 0x12, 0xa4, 0x42});
  out.append(reinterpret_cast<const char*>(id.data()), id.size());
  return out + attributes;
}

// 192.0.2.1:32853 XOR-encoded (port ^ 0x2112, address ^ the cookie).
std::string XorMappedV4() {
  return Attribute(kStunAttrXorMappedAddress, Bytes({0, 1, 0x80 ^ 0x21, 0x55 ^ 0x12, 192 ^ 0x21,
                                                     0 ^ 0x12, 2 ^ 0xa4, 1 ^ 0x42}));
}

TEST(StunMessage, BindingRequestIsTwentyBytesWithCookieAndId) {
  const std::string request = EncodeStunBindingRequest(kId);
  ASSERT_EQ(request.size(), kStunHeaderSize);
  EXPECT_EQ(request.substr(0, 8), Bytes({0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42}));
  EXPECT_EQ(request.substr(8), std::string(reinterpret_cast<const char*>(kId.data()), 12));
  // Our own request parses back as a Binding Request.
  auto parsed = ParseStunMessage(request);
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->type, kStunBindingRequest);
  EXPECT_EQ(parsed->transaction_id, kId);
}

TEST(StunMessage, RandomTransactionIdsDiffer) {
  std::set<StunTransactionId> ids;
  for (int i = 0; i < 64; ++i) ids.insert(RandomStunTransactionId());
  EXPECT_EQ(ids.size(), 64u);
}

TEST(StunMessage, DecodesXorMappedAddressV4) {
  auto m = ParseStunMessage(Message(kStunBindingSuccess, XorMappedV4()));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->type, kStunBindingSuccess);
  EXPECT_EQ(m->transaction_id, kId);
  ASSERT_TRUE(m->xor_mapped_address);
  EXPECT_EQ(m->xor_mapped_address->ip, "192.0.2.1");
  EXPECT_EQ(m->xor_mapped_address->port, 32853);
  EXPECT_FALSE(m->mapped_address);
}

TEST(StunMessage, DecodesXorMappedAddressV6WithTransactionIdMask) {
  // 2001:db8::1 : 443, masked with cookie || transaction id.
  const unsigned char plain[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  const unsigned char mask[16] = {0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  std::string value = Bytes({0, 2, (443 >> 8) ^ 0x21, (443 & 0xff) ^ 0x12});
  for (int i = 0; i < 16; ++i) value += static_cast<char>(plain[i] ^ mask[i]);
  auto m =
      ParseStunMessage(Message(kStunBindingSuccess, Attribute(kStunAttrXorMappedAddress, value)));
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_TRUE(m->xor_mapped_address);
  EXPECT_EQ(m->xor_mapped_address->ip, "2001:db8::1");
  EXPECT_EQ(m->xor_mapped_address->port, 443);
}

TEST(StunMessage, DecodesPlainMappedAddressAndSkipsUnknownAttributes) {
  const std::string attributes =
      Attribute(0x8022, "some software") +
      Attribute(kStunAttrMappedAddress, Bytes({0, 1, 0x12, 0x34, 10, 0, 0, 7}));
  auto m = ParseStunMessage(Message(kStunBindingSuccess, attributes));
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_TRUE(m->mapped_address);
  EXPECT_EQ(m->mapped_address->ip, "10.0.0.7");
  EXPECT_EQ(m->mapped_address->port, 0x1234);
}

TEST(StunMessage, DecodesErrorCode) {
  auto m = ParseStunMessage(Message(
      kStunBindingError, Attribute(kStunAttrErrorCode, Bytes({0, 0, 4, 1}) + "Unauthorized")));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->type, kStunBindingError);
  ASSERT_TRUE(m->error_code);
  EXPECT_EQ(*m->error_code, 401);
  EXPECT_EQ(m->error_reason, "Unauthorized");
}

TEST(StunMessage, RefusesMalformedDatagramsWithAReason) {
  const std::string valid = Message(kStunBindingSuccess, XorMappedV4());
  struct Case {
    std::string name;
    std::string bytes;
    std::string reason;
  };
  std::string wrong_cookie = valid;
  wrong_cookie[4] = 0x00;
  std::string not_stun = valid;
  not_stun[0] = static_cast<char>(0x81);
  std::string odd_length = valid;
  odd_length[3] = static_cast<char>(valid.size() - 20 - 2);
  const std::vector<Case> cases = {
      {"empty", "", "shorter than the 20-byte header"},
      {"header cut", valid.substr(0, 19), "shorter than the 20-byte header"},
      {"wrong cookie", wrong_cookie, "wrong magic cookie"},
      {"first bits set", not_stun, "not STUN"},
      {"length not a multiple of 4", odd_length, "not a multiple of 4"},
      {"trailing bytes", valid + "xxxx", "after the message's end"},
      {"attribute past the end",
       Message(kStunBindingSuccess, Bytes({0x00, 0x20, 0x00, 0x40, 0, 1, 0, 0})),
       "runs past the message"},
      {"address of the wrong size",
       Message(kStunBindingSuccess,
               Attribute(kStunAttrXorMappedAddress, Bytes({0, 1, 0, 0, 1, 2}))),
       "XOR-MAPPED-ADDRESS"},
      {"unknown family",
       Message(kStunBindingSuccess,
               Attribute(kStunAttrXorMappedAddress, Bytes({0, 9, 0, 0, 1, 2, 3, 4}))),
       "family 9"},
      {"error code out of range",
       Message(kStunBindingError, Attribute(kStunAttrErrorCode, Bytes({0, 0, 7, 0}))),
       "out of range"},
  };
  for (const auto& c : cases) {
    auto m = ParseStunMessage(c.bytes);
    ASSERT_FALSE(m.ok()) << c.name;
    EXPECT_NE(m.error().find(c.reason), std::string::npos) << c.name << ": " << m.error();
  }
}

TEST(StunMessage, EveryTruncationOfAValidResponseIsRefused) {
  std::string valid = Message(kStunBindingSuccess, Attribute(0x8022, "vigil") + XorMappedV4());
  for (size_t n = 0; n < valid.size(); ++n) {
    EXPECT_FALSE(ParseStunMessage(valid.substr(0, n)).ok()) << n << " bytes";
  }
  EXPECT_TRUE(ParseStunMessage(valid).ok());
}

}  // namespace
}  // namespace vigil

// testlists/ca/signal-ca.pem is the CA Signal's servers chain to: every leaf
// certificate of a Signal backend recorded in the real OONI signal measurements
// verifies against it (at the time it was measured, for its server name), and the
// same leaves do not verify against the system store — which is why the signal
// experiment pins it.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "base/base64.h"
#include "probe/measurement/measurement_json.h"
#include "tests/support_paths.h"

namespace vigil {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr FromDer(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
}

struct Recorded {
  std::string server_name;
  std::time_t when = 0;
  std::vector<X509Ptr> chain;  // leaf first
};

std::time_t ParseUtc(const std::string& s) {
  std::tm tm{};
  if (strptime(s.c_str(), "%Y-%m-%d %H:%M:%S", &tm) == nullptr) return 0;
  return timegm(&tm);
}

// Verifies the recorded leaf (with the recorded intermediates) against `ca_file`, or
// the system store when it is empty; the X509 error code (X509_V_OK on success).
int Verify(const Recorded& r, const std::string& ca_file) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  if (ca_file.empty()) {
    X509_STORE_set_default_paths(store.get());
  } else if (X509_STORE_load_locations(store.get(), ca_file.c_str(), nullptr) != 1) {
    return -1;
  }
  std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(
      sk_X509_new_null(), [](STACK_OF(X509) * s) { sk_X509_free(s); });
  for (size_t i = 1; i < r.chain.size(); ++i) sk_X509_push(untrusted.get(), r.chain[i].get());
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(),
                                                                      X509_STORE_CTX_free);
  X509_STORE_CTX_init(ctx.get(), store.get(), r.chain[0].get(), untrusted.get());
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_time(param, r.when);
  X509_VERIFY_PARAM_set1_host(param, r.server_name.c_str(), 0);
  if (X509_verify_cert(ctx.get()) == 1) return X509_V_OK;
  return X509_STORE_CTX_get_error(ctx.get());
}

TEST(SignalCaTest, RecordedSignalChainsVerifyAgainstThePinnedCa) {
  const std::string path = test_support::ReferenceDir() + "/ooni-measurements/signal.jsonl";
  std::ifstream in(path);
  if (!in) GTEST_SKIP() << "no reference measurements at " << path;
  const std::string ca = test_support::SourceDir() + "/testlists/ca/signal-ca.pem";
  std::vector<Recorded> recorded;
  for (std::string line; std::getline(in, line);) {
    auto m = ParseMeasurement(line);
    ASSERT_TRUE(m.ok()) << m.error();
    for (const auto& h : m->test_keys.tls_handshakes) {
      if (h.failure || h.peer_certificates.empty()) continue;
      Recorded r;
      r.server_name = h.server_name;
      r.when = ParseUtc(m->measurement_start_time);
      for (const auto& c : h.peer_certificates) {
        auto der = Base64Decode(c);
        ASSERT_TRUE(der.has_value());
        auto x = FromDer(*der);
        ASSERT_NE(x, nullptr);
        r.chain.push_back(std::move(x));
      }
      // Signal's own backends only (the measurements also fetch fronted hosts).
      char issuer[256] = {};
      X509_NAME_oneline(X509_get_issuer_name(r.chain[0].get()), issuer, sizeof issuer);
      const std::string is(issuer);
      if (is.find("Signal Messenger") == std::string::npos &&
          is.find("TextSecure") == std::string::npos) {
        continue;
      }
      recorded.push_back(std::move(r));
    }
  }
  ASSERT_FALSE(recorded.empty()) << "no Signal-issued chain in " << path;
  for (const auto& r : recorded) {
    EXPECT_EQ(Verify(r, ca), X509_V_OK)
        << r.server_name << ": " << X509_verify_cert_error_string(Verify(r, ca));
    EXPECT_NE(Verify(r, ""), X509_V_OK) << r.server_name << " verifies without the pinned CA";
  }
}

}  // namespace
}  // namespace vigil

#include "tests/support/test_pki.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/temp_dir.h"

namespace vigil::test_support {
namespace {

constexpr char kOpenssl[] = "/usr/bin/openssl";

// Just enough for `openssl req` (a DN section) and `openssl ca` (a database). `openssl ca`
// is used because it is the only OpenSSL 3.0 command that takes explicit validity dates,
// which the expired certificate needs without faking the clock.
std::string OpensslConfig(const TempDir& dir) {
  std::string config = "[ ca ]\ndefault_ca = vigil_ca\n[ vigil_ca ]\n";
  config += "database = " + dir.Join("index.txt") + "\n";
  config += "new_certs_dir = " + dir.Join("issued") + "\n";
  config += R"(rand_serial = yes
default_md = sha256
policy = vigil_policy
unique_subject = no
copy_extensions = none
[ vigil_policy ]
commonName = supplied
[ req ]
distinguished_name = vigil_dn
prompt = no
[ vigil_dn ]
CN = unused
)";
  return config;
}

std::string LeafExtensions(std::string_view subject_alt_names) {
  std::string extensions = "subjectAltName = ";
  extensions += subject_alt_names;
  extensions +=
      "\nbasicConstraints = critical, CA:FALSE\n"
      "keyUsage = critical, digitalSignature\n"
      "extendedKeyUsage = serverAuth\n"
      "subjectKeyIdentifier = hash\n"
      "authorityKeyIdentifier = keyid\n";
  return extensions;
}

bool Openssl(const TempDir& dir, std::vector<std::string> args, std::string* error) {
  args.insert(args.begin(), kOpenssl);
  CommandResult result = RunCommand(args);
  if (result.exit_code == 0) return true;
  std::string command;
  for (const std::string& arg : args) command += arg + " ";
  *error = "in " + dir.path() + ": " + command + "failed: " + result.output;
  return false;
}

}  // namespace

std::string_view TestPki::KindName(Kind kind) {
  switch (kind) {
    case Kind::kValid:
      return "valid";
    case Kind::kWrongHost:
      return "wrong_host";
    case Kind::kExpired:
      return "expired";
    case Kind::kSelfSigned:
      return "self_signed";
  }
  return "unknown";
}

std::optional<std::string> TestPki::Unavailable() {
  if (!IsExecutable(kOpenssl)) return std::string(kOpenssl) + " is not installed";
  return std::nullopt;
}

const TestPki& TestPki::Get() {
  // A function-local static: generated once even when tests race, and destroyed (with its
  // directory) at exit.
  static const TestPki pki;
  if (!pki.ok() && !Unavailable()) ADD_FAILURE() << "TestPki: " << pki.error();
  return pki;
}

TestPki::TestPki() {
  if (std::optional<std::string> reason = Unavailable()) {
    error_ = *reason;
    return;
  }
  dir_ = std::make_unique<TempDir>("vigil-pki-");
  if (!dir_->ok()) {
    error_ = dir_->error();
    return;
  }
  std::string error;
  if (!Generate(&error)) error_ = error.empty() ? "generation failed" : error;
}

TestPki::~TestPki() = default;

bool TestPki::Generate(std::string* error) {
  const TempDir& dir = *dir_;
  const std::string config = dir.Join("openssl.cnf");
  if (!dir.WriteFile("openssl.cnf", OpensslConfig(dir), error) ||
      !dir.WriteFile("index.txt", "", error) || !dir.WriteFile("issued/.keep", "", error) ||
      !dir.WriteFile("valid.ext", LeafExtensions(kSubjectAltNames), error) ||
      !dir.WriteFile("wrong_host.ext", LeafExtensions("DNS:wrong-host.invalid"), error)) {
    return false;
  }
  const std::vector<std::string> new_ec_key = {"-newkey", "ec", "-pkeyopt",
                                               "ec_paramgen_curve:P-256", "-nodes"};
  auto with_key = [&](std::vector<std::string> args) {
    args.insert(args.end(), new_ec_key.begin(), new_ec_key.end());
    return args;
  };

  ca_file_ = dir.Join("ca.pem");
  const std::string ca_key = dir.Join("ca.key");
  if (!Openssl(dir,
               with_key({"req", "-x509", "-config", config, "-subj", "/CN=vigil test CA", "-days",
                         "3650", "-keyout", ca_key, "-out", ca_file_, "-addext",
                         "basicConstraints=critical,CA:TRUE", "-addext",
                         "keyUsage=critical,keyCertSign,cRLSign", "-addext",
                         "subjectKeyIdentifier=hash"}),
               error)) {
    return false;
  }

  struct Issued {
    Kind kind;
    const char* common_name;
    const char* extensions;
    std::vector<std::string> validity;
  };
  const Issued issued[] = {
      {Kind::kValid, "example.test", "valid.ext", {"-days", "3650"}},
      {Kind::kWrongHost, "wrong-host.invalid", "wrong_host.ext", {"-days", "3650"}},
      {Kind::kExpired,
       "example.test",
       "valid.ext",
       {"-startdate", "20200101000000Z", "-enddate", "20200201000000Z"}},
  };
  for (const Issued& leaf : issued) {
    const std::string name(KindName(leaf.kind));
    CertificateFiles& files = files_[static_cast<size_t>(leaf.kind)];
    files.cert = dir.Join(name + ".pem");
    files.key = dir.Join(name + ".key");
    const std::string csr = dir.Join(name + ".csr");
    if (!Openssl(
            dir,
            with_key({"req", "-new", "-config", config, "-subj",
                      std::string("/CN=") + leaf.common_name, "-keyout", files.key, "-out", csr}),
            error)) {
      return false;
    }
    std::vector<std::string> sign = {
        "ca",    "-batch", "-notext",  "-config",  config,
        "-cert", ca_file_, "-keyfile", ca_key,     "-in",
        csr,     "-out",   files.cert, "-extfile", dir.Join(leaf.extensions)};
    sign.insert(sign.end(), leaf.validity.begin(), leaf.validity.end());
    if (!Openssl(dir, sign, error)) return false;
  }

  CertificateFiles& self_signed = files_[static_cast<size_t>(Kind::kSelfSigned)];
  self_signed.cert = dir.Join("self_signed.pem");
  self_signed.key = dir.Join("self_signed.key");
  return Openssl(
      dir,
      with_key({"req", "-x509", "-config", config, "-subj", "/CN=example.test", "-days", "3650",
                "-keyout", self_signed.key, "-out", self_signed.cert, "-addext",
                "subjectAltName=" + std::string(kSubjectAltNames), "-addext",
                "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"}),
      error);
}

}  // namespace vigil::test_support

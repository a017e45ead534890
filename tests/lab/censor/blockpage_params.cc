// http_blockpage's parameter keys: status, the page (inline or from a file) or the
// redirect's location, how the connection ends and whether the request passes.
#include <fstream>
#include <string>

#include "tests/lab/censor/action_params.h"
#include "tests/lab/censor/match_parser.h"

namespace vigil::lab {
namespace {

constexpr size_t kMaxBodyBytes = 64 * 1024;
constexpr size_t kMaxLocationBytes = 2048;

bool IsRedirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// body_file: a path relative to the scenario file's directory, or absolute.
void ReadBodyFile(FieldReader* r, const YAML::Node& v, const std::string& key,
                  const std::string& path, std::string* out) {
  std::string full = (!path.empty() && path[0] == '/') ? path : r->base_dir() + "/" + path;
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    r->Fail(v, key, "cannot read \"" + full + "\"");
    return;
  }
  std::string body(kMaxBodyBytes + 1, '\0');
  in.read(body.data(), static_cast<std::streamsize>(body.size()));
  body.resize(static_cast<size_t>(in.gcount()));
  if (body.size() > kMaxBodyBytes) {
    r->Fail(v, key, "longer than 65536 bytes");
    return;
  }
  *out = body;
}

}  // namespace

bool ReadBlockpageParam(FieldReader* r, const std::string& k, const YAML::Node& kn,
                        const YAML::Node& v, Rule* rule, ParamKeysSeen* seen) {
  BlockpageParams& b = rule->blockpage;
  if (k == "status") {
    seen->status = true;
    r->UintAs(kn, k, v, 100, 599, &b.status);
  } else if (k == "location") {
    if (!r->String(kn, k, v, &b.location)) return true;
    if (b.location.empty() || b.location.size() > kMaxLocationBytes ||
        b.location.find_first_of("\r\n") != std::string::npos) {
      r->Fail(v, k, "must be 1..2048 bytes on one line");
    }
  } else if (k == "body") {
    if (seen->body) r->Fail(kn, k, "give body or body_file, not both");
    seen->body = true;
    if (r->String(kn, k, v, &b.body) && b.body.size() > kMaxBodyBytes) {
      r->Fail(v, k, "longer than 65536 bytes");
    }
  } else if (k == "body_file") {
    if (seen->body) r->Fail(kn, k, "give body or body_file, not both");
    seen->body = true;
    std::string path;
    if (r->String(kn, k, v, &path)) ReadBodyFile(r, v, k, path, &b.body);
  } else if (k == "trigger") {
    ReadTrigger(r, k, kn, v, &b.pass_trigger);
  } else if (k == "then") {
    std::string t;
    if (!r->String(kn, k, v, &t)) return true;
    if (t == "rst") {
      b.then_rst = true;
    } else if (t == "fin") {
      b.then_rst = false;
    } else {
      r->Fail(v, k, "must be rst or fin, got \"" + t + "\"");
    }
  } else {
    return false;
  }
  return true;
}

void CheckBlockpage(FieldReader* r, const YAML::Node& rule_node, const ParamKeysSeen& seen,
                    Rule* rule) {
  CheckTcpActionMatch(r, rule_node, *rule);
  BlockpageParams& b = rule->blockpage;
  if (!b.location.empty()) {
    // A redirect to the censor's page, as Iran's 10.10.34.34 or Turkey's warning pages.
    if (!seen.status) b.status = 302;
    if (!IsRedirect(b.status)) {
      r->Fail(
          rule_node, "location",
          "needs a redirect status (301, 302, 303, 307 or 308), got " + std::to_string(b.status));
    }
    return;  // its body is empty unless given
  }
  if (IsRedirect(b.status)) {
    r->Fail(rule_node, "location", "missing (status " + std::to_string(b.status) + " redirects)");
  }
  if (rule->blockpage.body.empty()) {
    rule->blockpage.body =
        "<html><head><title>Access denied</title></head><body><h1>Access denied</h1>"
        "<p>The page you requested is blocked.</p></body></html>\n";
  }
}

}  // namespace vigil::lab

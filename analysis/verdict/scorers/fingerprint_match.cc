// ScoreFingerprints: the rules every test shares, fired before its own: a known
// censor's DNS answer or block page (testlists/fingerprints).
#include "analysis/verdict/scorers/scorers.h"
#include "analysis/verdict/scoring.h"

namespace vigil::analysis {

void ScoreFingerprints(Scoring& c) {
  std::vector<uint32_t> dns_ids;
  std::vector<uint32_t> http_ids;
  for (const ObservationRow& o : c.m.observations) {
    for (const std::string& answer : o.dns_answers) c.fingerprints.MatchDns(answer, &dns_ids);
    if (!o.http_body_sample.empty()) c.fingerprints.MatchBody(o.http_body_sample, &http_ids);
    for (const auto& [name, value] : o.http_headers) {
      c.fingerprints.MatchHeader(name, value, &http_ids);
    }
  }
  auto drop_ignored = [&](std::vector<uint32_t>* ids) {
    std::erase_if(*ids, [&](uint32_t id) {
      return Contains(c.config.ignored_scopes, c.fingerprints.all()[id].scope);
    });
  };
  drop_ignored(&dns_ids);
  drop_ignored(&http_ids);
  const std::string& cc = c.m.measurement.probe_cc;
  if (const Fingerprint* fp = c.fingerprints.Best(dns_ids, cc)) {
    if (fp->Confirms(cc)) {
      c.Fire(Rule::kDnsFingerprint);
      c.row.confirmed = true;
      c.row.fingerprint = fp->name;
    } else {
      c.dns_unconfirmed = true;
    }
  }
  if (const Fingerprint* fp = c.fingerprints.Best(http_ids, cc)) {
    if (fp->Confirms(cc)) {
      c.Fire(Rule::kHttpFingerprint);
      if (!c.row.confirmed) {
        c.row.confirmed = true;
        c.row.fingerprint = fp->name;
      }
    } else {
      c.http_unconfirmed = true;
    }
  }
}

}  // namespace vigil::analysis

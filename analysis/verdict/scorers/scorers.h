// The scorers: one function per test (or family of tests) that fires the rules its
// facts support, in the order that gives each layer its most specific rule first, and
// the building blocks they share. Which test is scored by which scorer is the map in
// scorer_map.h. Each runs inside one Score call (see scoring.h) on the caller's thread.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <vector>

namespace vigil::analysis {

struct Scoring;  // scoring.h

/// A test's scorer.
using Scorer = void (*)(Scoring& c);

// Shared by every test (fingerprint_match.cc): known DNS answers and block pages. Runs
// before the test's own scorer.
void ScoreFingerprints(Scoring& c);

// Shared by every test (injection.cc): the probe's proof of injected packets
// (test_keys.x_injection). Runs after ScoreFingerprints, before the test's own scorer, so
// an injection outranks the control-based and heuristic rules of its layer.
void ScoreInjection(Scoring& c);
/// "dns:" and the known DNS injection flags of `flags` (a JSON array of strings) joined
/// by commas, e.g. "dns:multiple_answers,known_forged_ip"; nullopt when `flags` is no
/// such array or names no flag that proves forgery (multiple_answers,
/// answer_from_non_resolver, known_forged_ip).
std::optional<std::string> DnsInjectionFingerprint(simdjson::dom::element flags);

// Shared building blocks (observations.cc).
/// Per-endpoint evidence without a control: what every step of the measurement saw.
/// Steps to a host in `skip_hosts` are left out.
void ScoreObservations(Scoring& c, const std::vector<std::string>& skip_hosts = {});

// One scorer per test or family, each in its own file.
void ScoreWebConnectivity(Scoring& c);    // web_connectivity.cc
void ScoreWhatsapp(Scoring& c);           // messaging.cc
void ScoreTelegram(Scoring& c);           // messaging.cc
void ScoreSignal(Scoring& c);             // messaging.cc
void ScoreFacebookMessenger(Scoring& c);  // messaging.cc
void ScoreWechat(Scoring& c);             // messaging.cc
void ScoreMessaging(Scoring& c);          // messaging.cc
void ScoreDnscheck(Scoring& c);           // dnscheck.cc
void ScoreSniBlocking(Scoring& c);        // sni_blocking.cc
void ScoreStunReachability(Scoring& c);   // stunreachability.cc
void ScoreDelivery(Scoring& c);           // delivery.cc
void ScoreDnsInjection(Scoring& c);       // dns_injection.cc
void ScoreResidualBlocking(Scoring& c);   // residual_blocking.cc
void ScoreCensorHop(Scoring& c);          // censor_hop.cc
/// Middlebox tests and every test without a scorer of its own (generic.cc).
void ScoreGeneric(Scoring& c);

}  // namespace vigil::analysis

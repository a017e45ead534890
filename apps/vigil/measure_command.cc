// `vigil measure`: OONI urlgetter-style single observations.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <cstdio>
#include <exception>
#include <iostream>
#include <memory>

#include "apps/vigil/commands.h"
#include "probe/capture/evidence_gathering.h"
#include "probe/capture/packet_capture.h"
#include "probe/measurement/measurement_json.h"
#include "probe/urlgetter/urlgetter.h"

namespace vigil::cli {

namespace {

struct MeasureFlags {
  UrlgetterConfig config;
  bool pretty = false;
  double timeout_seconds = 10;
  bool capture = false;   // packet evidence (x_packets, x_injection)
  std::string pcap_file;  // the captured packets, for Wireshark (implies capture)
};

void Run(MeasureFlags& flags) {
  flags.config.timeout =
      std::chrono::milliseconds(static_cast<int64_t>(flags.timeout_seconds * 1000));
  auto valid = ValidateUrlgetterConfig(flags.config);
  if (!valid.ok()) {
    Fail("measure " + flags.config.step, valid.error());
    return;
  }
  asio::io_context io;
  ExperimentContext context;  // what packet evidence reads: the capture, the listening window
  context.executor = io.get_executor();
  if (flags.capture || !flags.pcap_file.empty()) {
    CaptureOptions options;
    options.pcap_file = flags.pcap_file;
    auto capture = PacketCapture::Open(options);
    if (!capture.ok()) {
      // Asked for by name: the user hears why it cannot be had.
      Fail("measure " + flags.config.step, "--capture: " + capture.error());
      return;
    }
    context.capture = std::move(capture.value());
  }
  std::optional<Measurement> result;
  std::exception_ptr error;
  auto measure = [&]() -> asio::awaitable<Measurement> {
    const int64_t zero_ns = WallNowNs();
    Measurement m = co_await RunUrlgetter(flags.config);
    co_await GatherPacketEvidence(context, m, zero_ns, WallNowNs());
    co_return m;
  };
  asio::co_spawn(io, measure(), [&](std::exception_ptr e, Measurement m) {
    error = e;
    if (!e) result = std::move(m);
  });
  io.run();
  if (context.capture) context.capture->Stop();
  if (error || !result) {
    try {
      if (error) std::rethrow_exception(error);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "vigil measure: could not run: %s\n", e.what());
    }
    SetExitCode(kExitFailed);
    return;
  }
  std::cout << ToJson(*result).dump(flags.pretty ? 2 : -1) << "\n";
}

void AddCommonFlags(CLI::App* sub, MeasureFlags& flags) {
  sub->add_flag("--pretty", flags.pretty, "Indent the JSON for humans");
  sub->add_option("--timeout", flags.timeout_seconds, "Deadline of each step, in seconds")
      ->check(CLI::Range(0.05, 600.0));
  sub->add_option("--resolver", flags.config.resolver,
                  "system (default), udp://IP:PORT or tcp://IP:PORT");
  sub->add_flag("--capture", flags.capture,
                "Capture this measurement's packets (needs CAP_NET_RAW): x_packets, x_injection");
  sub->add_option("--pcap", flags.pcap_file,
                  "Also write the captured packets to FILE (pcap; implies --capture)");
}

}  // namespace

void AddMeasureCommand(CLI::App& app) {
  auto flags = std::make_shared<MeasureFlags>();
  CLI::App* measure = app.add_subcommand(
      "measure", "Observe one target (DNS, TCP, TLS or HTTP) and print the measurement as JSON");
  measure->require_subcommand(1);

  CLI::App* dns = measure->add_subcommand("dns", "Resolve NAME");
  dns->add_option("NAME", flags->config.target, "Host name")->required();
  dns->add_option("--type", flags->config.query_type,
                  "Query type with an explicit resolver (A, AAAA, ...)");
  AddCommonFlags(dns, *flags);
  dns->callback([flags] {
    flags->config.step = "dns";
    Run(*flags);
  });

  CLI::App* tcp = measure->add_subcommand("tcp", "Connect to IP:PORT");
  tcp->add_option("IP:PORT", flags->config.target, "Address and port ([v6]:port)")->required();
  AddCommonFlags(tcp, *flags);
  tcp->callback([flags] {
    flags->config.step = "tcp";
    Run(*flags);
  });

  CLI::App* tls = measure->add_subcommand("tls", "Connect to HOST:PORT and handshake TLS");
  tls->add_option("HOST:PORT", flags->config.target, "Host name or address, and port")->required();
  tls->add_option("--sni", flags->config.sni, "server_name to send (default: HOST)");
  tls->add_option("--alpn", flags->config.alpn, "ALPN protocols to offer (repeatable)");
  tls->add_option("--ca-file", flags->config.ca_file, "PEM CA bundle (default: system store)");
  tls->add_flag("--no-verify", flags->config.no_verify,
                "Record the certificate chain without verifying it");
  AddCommonFlags(tls, *flags);
  tls->callback([flags] {
    flags->config.step = "tls";
    Run(*flags);
  });

  CLI::App* http = measure->add_subcommand("http", "Fetch URL over HTTP/1.1 (TLS for https)");
  http->add_option("URL", flags->config.target, "http:// or https:// URL")->required();
  http->add_option("--method", flags->config.method, "GET (default), POST, HEAD, ...");
  http->add_option("--data", flags->config.body, "Request body (implies nothing about the method)");
  http->add_option("--host", flags->config.host_header, "Host header of the first request");
  http->add_option("--sni", flags->config.sni, "TLS server_name of the first request");
  http->add_option("--ca-file", flags->config.ca_file, "PEM CA bundle (default: system store)");
  http->add_option("--body-cap", flags->config.body_cap, "Bytes of response body to keep")
      ->check(CLI::Range(size_t{0}, size_t{1} << 30));
  AddCommonFlags(http, *flags);
  http->callback([flags] {
    flags->config.step = "http";
    Run(*flags);
  });
}

}  // namespace vigil::cli

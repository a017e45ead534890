// vigil_collector_bench: uploads per second that `vigil collector` sustains on this
// machine with durability on (every acknowledgement after fsync), with many clients
// over loopback, and the latency of each upload (p50, p99). Beside it, in the same
// run: the same load with fsync off (what durability costs) and the rate of one
// durable write per measurement (write + fsync each, the naive design that group
// commit replaces). Clients speak the real protocol with keep-alive: open a report
// once, then POST /report/{id} per measurement (~5 KB, gzip off to load the server).
//
// Then the same clients offer a steady --rate (2,000/s by default): upload n is due at
// start + n / rate, and its latency runs from when it was due, so a server that falls
// behind is charged for the wait (no coordinated omission): the p99 at that rate.
//
//   vigil_collector_bench [--clients 64] [--count 20000] [--size 5000] [--rate 2000]
//                         [--dir DIR]
#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "vantage/collector/collector_server.h"

namespace {

using Clock = std::chrono::steady_clock;
using Json = nlohmann::ordered_json;

struct Args {
  int clients = 64;
  int count = 20000;
  size_t size = 5000;
  double rate = 2000;
  std::string dir = "/var/tmp/vigil-collector-bench";
};

// A measurement of about `size` bytes; `n` makes it distinct.
std::string Measurement(const std::string& report_id, size_t size, int n) {
  Json m{{"annotations", {{"engine_name", "vigil"}, {"platform", "linux"}}},
         {"data_format_version", "0.2.0"},
         {"input", nullptr},
         {"measurement_start_time", "2026-12-01 10:00:00"},
         {"probe_asn", "AS30722"},
         {"probe_cc", "IT"},
         {"probe_ip", "127.0.0.1"},
         {"report_id", report_id},
         {"software_name", "vigil"},
         {"software_version", "0.1.0"},
         {"test_keys",
          {{"n", n},
           {"registration_server_status", "ok"},
           {"whatsapp_endpoints_status", "ok"},
           {"queries", Json::array()},
           {"tcp_connect", Json::array()}}},
         {"test_name", "whatsapp"},
         {"test_runtime", 1.25},
         {"test_start_time", "2026-12-01 10:00:00"},
         {"test_version", "0.2.0"}};
  const Json entry0{{"ip", "198.18.0.0"},
                    {"port", 443},
                    {"status", {{"success", true}, {"failure", nullptr}}},
                    {"t", 0.0123}};
  const size_t per_entry = entry0.dump().size() + 1;
  const size_t base = m.dump().size();
  for (int i = 0; base + per_entry * static_cast<size_t>(i) < size; ++i) {
    m["test_keys"]["tcp_connect"].push_back({{"ip", "198.18.0." + std::to_string(i % 250)},
                                             {"port", 443},
                                             {"status", {{"success", true}, {"failure", nullptr}}},
                                             {"t", 0.0123 * i}});
  }
  return Json{{"format", "json"}, {"content", m}}.dump();
}

struct Run {
  double seconds = 0, per_second = 0, p50_ms = 0, p99_ms = 0;
  int failures = 0;
};

// `rate` 0: each client sends as soon as its last upload is answered (saturation).
Run Load(const Args& args, bool fsync_on, double rate = 0) {
  std::filesystem::remove_all(args.dir);
  vigil::CollectorConfig config;
  config.http.log_requests = false;
  config.http.threads = 1;          // the other core runs the clients
  config.http.max_in_flight = 256;  // vigil collector's default cap
  config.archive.root = args.dir;
  config.archive.fsync = fsync_on;
  auto server = vigil::CollectorServer::Create(config);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.error().c_str());
    std::exit(2);
  }
  auto port = (*server)->Bind();
  if (!port.ok()) {
    std::fprintf(stderr, "%s\n", port.error().c_str());
    std::exit(2);
  }
  std::thread serving([&] { (*server)->Serve(); });

  std::atomic<int> next{0}, failures{0};
  std::vector<std::vector<double>> latencies(static_cast<size_t>(args.clients));
  const auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < args.clients; ++c) {
    clients.emplace_back([&, c] {
      httplib::Client client("127.0.0.1", *port);
      client.set_keep_alive(true);
      client.set_tcp_nodelay(true);
      auto opened = client.Post(
          "/report",
          R"({"data_format_version":"0.2.0","format":"json","probe_asn":"AS30722","probe_cc":"IT","software_name":"vigil","software_version":"0.1.0","test_name":"whatsapp","test_start_time":"2026-12-01 10:00:00","test_version":"0.2.0"})",
          "application/json");
      if (!opened || opened->status != 200) {
        failures.fetch_add(1);
        return;
      }
      const std::string id = nlohmann::json::parse(opened->body)["report_id"];
      // One body rendered per client; each upload writes its number into it, so the
      // clients spend their CPU on HTTP, not on building JSON.
      std::string body = Measurement(id, args.size, 100000000);
      const size_t digits = body.find("100000000");
      for (int n; (n = next.fetch_add(1)) < args.count;) {
        const std::string number = std::to_string(100000000 + n);
        body.replace(digits, number.size(), number);
        auto t0 = Clock::now();
        if (rate > 0) {
          const auto due = start + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(n / rate));
          std::this_thread::sleep_until(due);
          t0 = due;
        }
        auto res = client.Post(("/report/" + id).c_str(), body, "application/json");
        const auto t1 = Clock::now();
        if (!res || res->status != 200) failures.fetch_add(1);
        latencies[static_cast<size_t>(c)].push_back(
            std::chrono::duration<double, std::milli>(t1 - t0).count());
      }
    });
  }
  for (auto& t : clients) t.join();
  Run run;
  run.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  (*server)->Stop();
  serving.join();
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  run.per_second = static_cast<double>(all.size()) / run.seconds;
  if (!all.empty()) {
    run.p50_ms = all[all.size() / 2];
    run.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  run.failures = failures.load();
  return run;
}

// One write and one fsync per measurement, one writer: the rate without group commit.
double NaiveDurableWrites(const Args& args, int seconds_budget) {
  std::filesystem::create_directories(args.dir);
  const std::string path = args.dir + "/naive.jsonl";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
  const std::string line(args.size, 'x');
  const auto start = Clock::now();
  int n = 0;
  while (std::chrono::duration<double>(Clock::now() - start).count() < seconds_budget) {
    if (::write(fd, line.data(), line.size()) < 0 || ::fsync(fd) != 0) break;
    ++n;
  }
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(fd);
  return n / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--clients")
      args.clients = std::stoi(argv[i + 1]);
    else if (flag == "--count")
      args.count = std::stoi(argv[i + 1]);
    else if (flag == "--size")
      args.size = std::stoul(argv[i + 1]);
    else if (flag == "--rate")
      args.rate = std::stod(argv[i + 1]);
    else if (flag == "--dir")
      args.dir = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  std::printf("collector: %d clients, %d measurements of ~%zu bytes, archive in %s\n", args.clients,
              args.count, args.size, args.dir.c_str());
  const Run durable = Load(args, true);
  const Run volatile_run = Load(args, false);
  const Run paced = Load(args, true, args.rate);
  const double naive = NaiveDurableWrites(args, 3);
  std::filesystem::remove_all(args.dir);
  std::printf("%-34s %12s %10s %10s %9s\n", "", "uploads/s", "p50 ms", "p99 ms", "failures");
  std::printf("%-34s %12.0f %10.2f %10.2f %9d\n", "collector, fsync before each ack",
              durable.per_second, durable.p50_ms, durable.p99_ms, durable.failures);
  std::printf("%-34s %12.0f %10.2f %10.2f %9d\n", "collector, fsync off", volatile_run.per_second,
              volatile_run.p50_ms, volatile_run.p99_ms, volatile_run.failures);
  std::printf("%-34s %12.0f %10s %10s %9s\n", "one write+fsync per measurement", naive, "-", "-",
              "-");
  char offered[64];
  std::snprintf(offered, sizeof offered, "durable, %.0f/s offered", args.rate);
  std::printf("%-34s %12.0f %10.2f %10.2f %9d\n", offered, paced.per_second, paced.p50_ms,
              paced.p99_ms, paced.failures);
  std::printf("target: >= 2000 uploads/s durable: %s\n",
              durable.per_second >= 2000 ? "met" : "NOT met");
  std::printf("target: p99 < 50 ms at >= 2000 uploads/s durable: %s\n",
              args.rate >= 2000 && paced.per_second >= 0.98 * args.rate && paced.p99_ms < 50
                  ? "met"
                  : "NOT met");
  return durable.failures == 0 && volatile_run.failures == 0 && paced.failures == 0 ? 0 : 1;
}

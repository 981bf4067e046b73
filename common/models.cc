#include "common/models.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hs {

const std::vector<ModelInfo>& Models() {
  using Kind = ModelInfo::Kind;
  static const std::vector<ModelInfo> models = {
      {.name = "thread",
       .binary = "thread_server",
       .what = "a thread per connection",
       .kind = Kind::kPerConnection,
       .forks = false,
       .accepts_workers = false,
       .keep_alive = true,
       .slow_clients_hold_workers = false,
       .worker_holds_connection = true},
      {.name = "thread-pool",
       .binary = "thread_pool_server",
       .what = "fixed worker threads behind one poller",
       .kind = Kind::kPool,
       .forks = false,
       .accepts_workers = true,
       .keep_alive = true,
       .slow_clients_hold_workers = false,
       .worker_holds_connection = false},
      {.name = "process",
       .binary = "process_server",
       .what = "fork() per connection",
       .kind = Kind::kPerConnection,
       .forks = true,
       .accepts_workers = false,
       .keep_alive = true,
       .slow_clients_hold_workers = false,
       .worker_holds_connection = true},
      // Self-sizing (pool_server/prefork.h): up to --max-workers (256), so 64 slow clients get a
      // worker each.
      {.name = "process-pool",
       .binary = "process_pool_server",
       .what = "pre-forked, self-sizing workers",
       .kind = Kind::kPool,
       .forks = true,
       .accepts_workers = true,
       .keep_alive = true,
       .slow_clients_hold_workers = false,
       .worker_holds_connection = true,
       .accepts_pool_sizing = true},
      {.name = "async",
       .binary = "async_server",
       .what = "epoll event loop",
       .kind = Kind::kEventLoop,
       .forks = false,
       .accepts_workers = true,
       .keep_alive = true,
       .slow_clients_hold_workers = false,
       .worker_holds_connection = false},
      {.name = "single",
       .binary = "single_server",
       .what = "one client at a time",
       .kind = Kind::kIterative,
       .forks = false,
       .accepts_workers = false,
       .keep_alive = false,
       .slow_clients_hold_workers = true,
       .worker_holds_connection = true},
  };
  return models;
}

const ModelInfo* FindModel(const std::string& name_or_binary) {
  for (const ModelInfo& m : Models()) {
    if (m.name == name_or_binary || m.binary == name_or_binary) return &m;
  }
  return nullptr;
}

std::string ModelChoices() {
  std::vector<std::string> names;
  for (const ModelInfo& m : Models()) names.push_back(m.name);
  return absl::StrCat("{", absl::StrJoin(names, ","), "}");
}

std::string ModelTable() {
  auto kind = [](ModelInfo::Kind k) {
    switch (k) {
      case ModelInfo::Kind::kIterative:
        return "iterative";
      case ModelInfo::Kind::kPerConnection:
        return "per-connection";
      case ModelInfo::Kind::kPool:
        return "pool";
      case ModelInfo::Kind::kEventLoop:
        return "event-loop";
    }
    return "?";
  };
  auto yes = [](bool b) { return b ? "yes" : "no"; };
  std::string table =
      "name\tbinary\tkind\tforks\tworkers\tkeep_alive\tslow_clients_hold_workers\twhat\n";
  for (const ModelInfo& m : Models()) {
    absl::StrAppend(&table, m.name, "\t", m.binary, "\t", kind(m.kind), "\t", yes(m.forks), "\t",
                    yes(m.accepts_workers), "\t", yes(m.keep_alive), "\t",
                    yes(m.slow_clients_hold_workers), "\t", m.what, "\n");
  }
  return table;
}

}  // namespace hs

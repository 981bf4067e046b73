#include "common/models.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace hs {

const std::vector<ModelInfo>& Models() {
  using Kind = ModelInfo::Kind;
  static const std::vector<ModelInfo> models = {
      {"thread", "thread_server", "a thread per connection", Kind::kPerConnection,
       /*forks=*/false, /*accepts_workers=*/false, /*keep_alive=*/true,
       /*slow_clients_hold_workers=*/false},
      {"thread-pool", "thread_pool_server", "fixed worker threads behind one poller", Kind::kPool,
       false, true, true, false},
      {"process", "process_server", "fork() per connection", Kind::kPerConnection, true, false,
       true, false},
      {"process-pool", "process_pool_server", "pre-forked workers", Kind::kPool, true, true, true,
       true},
      {"async", "async_server", "epoll event loop", Kind::kEventLoop, false, true, true, false},
      {"single", "single_server", "one client at a time", Kind::kIterative, false, false, false,
       true},
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

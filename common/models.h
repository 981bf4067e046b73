// The one registry of concurrency models: what each -c value runs and what the tests, the
// benchmark, the soak and the browser test need to know about it. Everything else asks here --
// C++ through Models(), scripts through `http_server --list-models` -- so adding a seventh model
// is a new folder, one entry below, and the README's -h block (README: "Add your own model").
#pragma once

#include <string>
#include <vector>

namespace hs {

struct ModelInfo {
  enum class Kind {
    kIterative,      // one client at a time
    kPerConnection,  // a new thread or process for each connection
    kPool,           // a fixed set of workers
    kEventLoop,      // one thread waits on every connection
  };
  std::string name;    // the -c value, "thread-pool"
  std::string binary;  // "thread_pool_server"
  std::string what;    // how it serves, in a few words
  Kind kind;
  bool forks;            // connections are served by child processes
  bool accepts_workers;  // takes --workers N
  // Keeps a connection open for the next request (single_server answers one and closes).
  bool keep_alive;
  // A slow or idle client holds a worker (the only thread, or one of a fixed pool), so a few
  // of them make everyone else wait: the weakness of the iterative model and the process pool.
  // (The thread pool's workers serve only connections with bytes to read: a poller waits on the
  // others, pool_server/poller.h.)
  bool slow_clients_hold_workers;
};

// In the order the usage line lists them: the lab's, with single last.
const std::vector<ModelInfo>& Models();

// The model with this -c value or binary name; nullptr when there is none.
const ModelInfo* FindModel(const std::string& name_or_binary);

// "{thread,thread-pool,process,process-pool,async,single}": the -c choices for usage and errors.
std::string ModelChoices();

// What `http_server --list-models` prints: a header line, then one tab-separated line per model:
// name, binary, kind, forks, workers, keep-alive, slow clients, what.
std::string ModelTable();

}  // namespace hs

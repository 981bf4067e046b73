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
    kPool,           // workers started ahead of need
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
  // of them make everyone else wait: the weakness of the iterative model. (The thread pool's
  // poller waits on idle connections instead of a worker, pool_server/poller.h; the process pool
  // forks a worker for each, up to --max-workers, pool_server/prefork.h.)
  bool slow_clients_hold_workers;
  // A worker is held by one connection from accept to close, idle time included (the iterative,
  // per-connection and process-pool models; not the thread pool, whose poller holds idle
  // connections, nor the event loop).
  bool worker_holds_connection;
  // Takes --min-spare, --max-spare and --max-workers: a pool that sizes itself.
  bool accepts_pool_sizing = false;
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

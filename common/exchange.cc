#include "common/exchange.h"

namespace hs {

std::optional<Exchange> NextExchange(std::string_view buffered, const DocumentRoot& root,
                                     bool keep_alive_allowed) {
  ParseResult parsed = ParseRequest(buffered);
  if (parsed.need_more()) return std::nullopt;
  Exchange exchange;
  if (parsed.error()) {
    exchange.response = ErrorResponse(parsed.error_status);
    exchange.consumed = buffered.size();  // the connection closes: nothing after this counts
    return exchange;
  }
  exchange.response = Respond(parsed.request, root, {.keep_alive_allowed = keep_alive_allowed});
  exchange.consumed = parsed.consumed;
  exchange.apply_delay = true;
  exchange.method = parsed.request.method;
  exchange.target = parsed.request.target;
  return exchange;
}

absl::Time ReadDeadline(bool request_started, absl::Time idle_since, absl::Time first_byte_at) {
  return request_started ? first_byte_at + kRequestTimeout : idle_since + kIdleTimeout;
}

}  // namespace hs

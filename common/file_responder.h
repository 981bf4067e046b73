// Request + document root -> response plan: the status, the serialised head, and where the body
// comes from (a small in-memory page, or an open file to sendfile()). Pure apart from
// openat2/fstat: no sockets, so it is unit-tested directly.
#pragma once

#include "common/document_root.h"
#include "common/http_request.h"
#include "common/http_response.h"

namespace hs {

// GET/HEAD of a file under `root`. Other methods -> 405 with "Allow: GET, HEAD". Directory
// without trailing slash -> 301 to "path/" (plus the request's query); "dir/" without an
// index.html -> 403. Missing -> 404 (body: the root's 404.html when it exists, else a small
// built-in page); unreadable -> 403. Every response carries Date, Server, Content-Length,
// Content-Type, Connection; files also Last-Modified, ETag and Accept-Ranges. The conditional
// headers and Range decide between 200, 206, 304 (no body, no Content-Type), 412 and 416: see
// DecideFileResponse (file_decision.h). `keep_alive_allowed` is false when the connection closes
// after this answer whatever the client asked (single_server, shutdown in progress, ...).
ResponsePlan Respond(const HttpRequest& request, const DocumentRoot& root, bool keep_alive_allowed);

}  // namespace hs

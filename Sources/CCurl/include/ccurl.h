// libcurl, loaded with dlopen the first time an HTTP sink is configured: a process without one maps
// none of libcurl's 33 libraries (6 MiB of resident memory measured for linking them alone). The
// functions here wrap the few calls the HTTP sinks make, so Swift never calls curl's variadic
// curl_easy_setopt itself.
#ifndef LOG_SIDECAR_CCURL_H
#define LOG_SIDECAR_CCURL_H
#include <stddef.h>
#include <stdint.h>

/// Loads libcurl.so.4 and initialises it once; 0 on success, otherwise -1 with the reason in `error`.
int lsc_curl_load(char *error, size_t error_size);

typedef struct lsc_http lsc_http;

/// One connection's worth of state (curl keeps the connection alive between requests).
lsc_http *lsc_http_new(void);
void lsc_http_free(lsc_http *http);

/// One response: status 0 when no response came (then `error` says why). The body is kept up to
/// `body_limit` bytes; the headers the sinks read are kept whole.
typedef struct {
    long status;
    char *body;
    size_t body_length;
    /// `Retry-After` in seconds (given as seconds or as an HTTP date), -1 when absent or unreadable.
    long retry_after;
    /// `X-ClickHouse-Exception-Code`, -1 when absent.
    long clickhouse_code;
    double seconds;
    char error[256];
} lsc_response;

typedef struct {
    const char *url;
    /// NUL-terminated "Name: value" lines.
    const char *const *headers;
    size_t header_count;
    const uint8_t *body;
    size_t body_length;
    long timeout_ms;
    /// A PEM file of the CAs to trust instead of the system's; NULL: the system's store.
    const char *ca_file;
    size_t body_limit;
} lsc_request;

/// POSTs the request; the response's body is malloc'ed (free it with lsc_response_free).
void lsc_http_post(lsc_http *http, const lsc_request *request, lsc_response *response);
void lsc_response_free(lsc_response *response);

#endif

#include "ccurl.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static struct {
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    void (*easy_reset)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    time_t (*getdate)(const char *, const time_t *);
} curl;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

#define LOAD(field, name)                                                                       \
    do {                                                                                        \
        *(void **)&curl.field = dlsym(library, name);                                           \
        if (!curl.field) {                                                                      \
            snprintf(load_error, sizeof load_error, "libcurl.so.4 lacks %s", name);           \
            return;                                                                             \
        }                                                                                       \
    } while (0)

static void load(void) {
    void *library = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(load_error, sizeof load_error, "cannot load libcurl.so.4 (Debian: libcurl4): %s", dlerror());
        return;
    }
    LOAD(global_init, "curl_global_init");
    LOAD(easy_init, "curl_easy_init");
    LOAD(easy_setopt, "curl_easy_setopt");
    LOAD(easy_perform, "curl_easy_perform");
    LOAD(easy_getinfo, "curl_easy_getinfo");
    LOAD(easy_cleanup, "curl_easy_cleanup");
    LOAD(easy_reset, "curl_easy_reset");
    LOAD(easy_strerror, "curl_easy_strerror");
    LOAD(slist_append, "curl_slist_append");
    LOAD(slist_free_all, "curl_slist_free_all");
    LOAD(getdate, "curl_getdate");
    CURLcode code = curl.global_init(CURL_GLOBAL_DEFAULT);
    if (code != CURLE_OK) snprintf(load_error, sizeof load_error, "curl_global_init failed: %d", (int)code);
}

int lsc_curl_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (load_error[0] == 0) return 0;
    snprintf(error, error_size, "%s", load_error);
    return -1;
}

struct lsc_http {
    CURL *handle;
};

lsc_http *lsc_http_new(void) {
    lsc_http *http = calloc(1, sizeof *http);
    if (!http) return NULL;
    http->handle = curl.easy_init();
    if (!http->handle) {
        free(http);
        return NULL;
    }
    return http;
}

void lsc_http_free(lsc_http *http) {
    if (!http) return;
    curl.easy_cleanup(http->handle);
    free(http);
}

typedef struct {
    lsc_response *response;
    size_t limit;
} sink_state;

static size_t on_body(char *data, size_t size, size_t count, void *user) {
    sink_state *state = user;
    size_t length = size * count;
    lsc_response *response = state->response;
    size_t room = state->limit > response->body_length ? state->limit - response->body_length : 0;
    size_t take = length < room ? length : room;
    if (take > 0) {
        char *grown = realloc(response->body, response->body_length + take + 1);
        if (!grown) return 0;
        response->body = grown;
        memcpy(grown + response->body_length, data, take);
        response->body_length += take;
        grown[response->body_length] = 0;
    }
    return length;
}

/// The value of header `name` in `line` ("Name: value\r\n") as a non-negative integer; -1 otherwise.
static long header_number(const char *line, size_t length, const char *name) {
    size_t name_length = strlen(name);
    if (length <= name_length || strncasecmp(line, name, name_length) != 0 || line[name_length] != ':') return -1;
    size_t at = name_length + 1;
    while (at < length && (line[at] == ' ' || line[at] == '\t')) at++;
    if (at >= length || line[at] < '0' || line[at] > '9') return -1;
    long value = 0;
    while (at < length && line[at] >= '0' && line[at] <= '9' && value < 100000000) value = value * 10 + (line[at++] - '0');
    while (at < length && (line[at] == ' ' || line[at] == '\t' || line[at] == '\r' || line[at] == '\n')) at++;
    return at == length ? value : -1;
}

/// `Retry-After` given as an HTTP date ("Wed, 21 Oct 2015 07:28:00 GMT", RFC 9110): the seconds from
/// now until then (0 when it is past); -1 when `line` is not that header or the date does not parse.
static long header_date_seconds(const char *line, size_t length, const char *name) {
    size_t name_length = strlen(name);
    if (length <= name_length || strncasecmp(line, name, name_length) != 0 || line[name_length] != ':') return -1;
    char value[128];
    size_t at = name_length + 1, used = 0;
    while (at < length && (line[at] == ' ' || line[at] == '\t')) at++;
    while (at < length && line[at] != '\r' && line[at] != '\n' && used + 1 < sizeof value) value[used++] = line[at++];
    value[used] = 0;
    time_t when = curl.getdate(value, NULL);
    if (when == -1) return -1;
    time_t now = time(NULL);
    return when > now ? (long)(when - now) : 0;
}

static size_t on_header(char *data, size_t size, size_t count, void *user) {
    lsc_response *response = user;
    size_t length = size * count;
    // A new status line (after a 100 Continue or a redirect) starts the headers over.
    if (length >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        response->retry_after = -1;
        response->clickhouse_code = -1;
        return length;
    }
    long value = header_number(data, length, "Retry-After");
    if (value < 0) value = header_date_seconds(data, length, "Retry-After");
    if (value >= 0) response->retry_after = value;
    value = header_number(data, length, "X-ClickHouse-Exception-Code");
    if (value >= 0) response->clickhouse_code = value;
    return length;
}

void lsc_http_post(lsc_http *http, const lsc_request *request, lsc_response *response) {
    memset(response, 0, sizeof *response);
    response->retry_after = -1;
    response->clickhouse_code = -1;
    struct curl_slist *headers = NULL;
    for (size_t index = 0; index < request->header_count; index++) {
        struct curl_slist *grown = curl.slist_append(headers, request->headers[index]);
        if (!grown) {
            curl.slist_free_all(headers);
            snprintf(response->error, sizeof response->error, "out of memory for the request's headers");
            return;
        }
        headers = grown;
    }
    CURL *handle = http->handle;
    // Reset, so that no option of an earlier request (a CA file) lingers; the connection stays.
    curl.easy_reset(handle);
    sink_state state = {response, request->body_limit};
    curl.easy_setopt(handle, CURLOPT_URL, request->url);
    curl.easy_setopt(handle, CURLOPT_POST, 1L);
    curl.easy_setopt(handle, CURLOPT_POSTFIELDS, (const char *)request->body);
    curl.easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)request->body_length);
    curl.easy_setopt(handle, CURLOPT_HTTPHEADER, headers);
    curl.easy_setopt(handle, CURLOPT_TIMEOUT_MS, request->timeout_ms);
    curl.easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, request->timeout_ms < 10000 ? request->timeout_ms : 10000L);
    curl.easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
    curl.easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
    curl.easy_setopt(handle, CURLOPT_WRITEDATA, &state);
    curl.easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
    curl.easy_setopt(handle, CURLOPT_HEADERDATA, response);
    curl.easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
    curl.easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
    // The body leaves in pieces of this size (64 KiB by default): a send and a wake-up of the receiver
    // each. With 1 MiB the sending thread's CPU on an OTLP catch-up fell by a third (1.9 to 1.25 s a
    // GiB), for 1 MiB more of resident memory while a body is sent.
    curl.easy_setopt(handle, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
    if (request->ca_file) curl.easy_setopt(handle, CURLOPT_CAINFO, request->ca_file);
    CURLcode code = curl.easy_perform(handle);
    curl.slist_free_all(headers);
    double seconds = 0;
    curl.easy_getinfo(handle, CURLINFO_TOTAL_TIME, &seconds);
    response->seconds = seconds;
    if (code != CURLE_OK) {
        response->status = 0;
        snprintf(response->error, sizeof response->error, "%s", curl.easy_strerror(code));
        return;
    }
    curl.easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &response->status);
}

void lsc_response_free(lsc_response *response) {
    free(response->body);
    response->body = NULL;
    response->body_length = 0;
}

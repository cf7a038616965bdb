#include "csystemd.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

typedef struct sd_journal sd_journal;

// SD_JOURNAL_LOCAL_ONLY: this machine's journal, not those of containers merged in.
#define LOCAL_ONLY 1

static struct {
    int (*open)(sd_journal **, int);
    int (*open_directory)(sd_journal **, const char *, int);
    int (*open_namespace)(sd_journal **, const char *, int);
    void (*close)(sd_journal *);
    int (*set_data_threshold)(sd_journal *, size_t);
    int (*add_match)(sd_journal *, const void *, size_t);
    int (*add_disjunction)(sd_journal *);
    int (*add_conjunction)(sd_journal *);
    void (*flush_matches)(sd_journal *);
    int (*seek_head)(sd_journal *);
    int (*seek_tail)(sd_journal *);
    int (*seek_cursor)(sd_journal *, const char *);
    int (*test_cursor)(sd_journal *, const char *);
    int (*next)(sd_journal *);
    int (*previous)(sd_journal *);
    int (*get_cursor)(sd_journal *, char **);
    int (*get_realtime_usec)(sd_journal *, uint64_t *);
    void (*restart_data)(sd_journal *);
    int (*enumerate_data)(sd_journal *, const void **, size_t *);
    int (*wait)(sd_journal *, uint64_t);
    int (*process)(sd_journal *);
} sd;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static char load_error[256];

#define LOAD(field, name)                                                                       \
    do {                                                                                        \
        *(void **)&sd.field = dlsym(library, name);                                             \
        if (!sd.field) {                                                                        \
            snprintf(load_error, sizeof load_error, "libsystemd.so.0 lacks %s", name);        \
            return;                                                                             \
        }                                                                                       \
    } while (0)

static void load(void) {
    void *library = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!library) {
        snprintf(load_error, sizeof load_error, "cannot load libsystemd.so.0 (Debian: libsystemd0): %s", dlerror());
        return;
    }
    LOAD(open, "sd_journal_open");
    LOAD(open_directory, "sd_journal_open_directory");
    LOAD(close, "sd_journal_close");
    LOAD(set_data_threshold, "sd_journal_set_data_threshold");
    LOAD(add_match, "sd_journal_add_match");
    LOAD(add_disjunction, "sd_journal_add_disjunction");
    LOAD(add_conjunction, "sd_journal_add_conjunction");
    LOAD(flush_matches, "sd_journal_flush_matches");
    LOAD(seek_head, "sd_journal_seek_head");
    LOAD(seek_tail, "sd_journal_seek_tail");
    LOAD(seek_cursor, "sd_journal_seek_cursor");
    LOAD(test_cursor, "sd_journal_test_cursor");
    LOAD(next, "sd_journal_next");
    LOAD(previous, "sd_journal_previous");
    LOAD(get_cursor, "sd_journal_get_cursor");
    LOAD(get_realtime_usec, "sd_journal_get_realtime_usec");
    LOAD(restart_data, "sd_journal_restart_data");
    LOAD(enumerate_data, "sd_journal_enumerate_data");
    LOAD(wait, "sd_journal_wait");
    LOAD(process, "sd_journal_process");
    // Namespaces came with systemd 245; an older library still reads the local journal and directories.
    *(void **)&sd.open_namespace = dlsym(library, "sd_journal_open_namespace");
}

int lsc_journal_load(char *error, size_t error_size) {
    pthread_once(&load_once, load);
    if (load_error[0] == 0) return 0;
    snprintf(error, error_size, "%s", load_error);
    return -1;
}

int lsc_journal_open_local(lsc_journal **journal) { return sd.open((sd_journal **)journal, LOCAL_ONLY); }
int lsc_journal_open_directory(lsc_journal **journal, const char *path) {
    return sd.open_directory((sd_journal **)journal, path, 0);
}
int lsc_journal_open_namespace(lsc_journal **journal, const char *name) {
    if (!sd.open_namespace) return -EOPNOTSUPP;
    return sd.open_namespace((sd_journal **)journal, name, LOCAL_ONLY);
}
void lsc_journal_close(lsc_journal *journal) { sd.close((sd_journal *)journal); }
int lsc_journal_set_data_threshold(lsc_journal *journal, size_t size) {
    return sd.set_data_threshold((sd_journal *)journal, size);
}
int lsc_journal_add_match(lsc_journal *journal, const void *data, size_t size) {
    return sd.add_match((sd_journal *)journal, data, size);
}
int lsc_journal_add_disjunction(lsc_journal *journal) { return sd.add_disjunction((sd_journal *)journal); }
int lsc_journal_add_conjunction(lsc_journal *journal) { return sd.add_conjunction((sd_journal *)journal); }
void lsc_journal_flush_matches(lsc_journal *journal) { sd.flush_matches((sd_journal *)journal); }
int lsc_journal_seek_head(lsc_journal *journal) { return sd.seek_head((sd_journal *)journal); }
int lsc_journal_seek_tail(lsc_journal *journal) { return sd.seek_tail((sd_journal *)journal); }
int lsc_journal_seek_cursor(lsc_journal *journal, const char *cursor) { return sd.seek_cursor((sd_journal *)journal, cursor); }
int lsc_journal_test_cursor(lsc_journal *journal, const char *cursor) { return sd.test_cursor((sd_journal *)journal, cursor); }
int lsc_journal_next(lsc_journal *journal) { return sd.next((sd_journal *)journal); }
int lsc_journal_previous(lsc_journal *journal) { return sd.previous((sd_journal *)journal); }
int lsc_journal_get_cursor(lsc_journal *journal, char **cursor) { return sd.get_cursor((sd_journal *)journal, cursor); }
int lsc_journal_get_realtime_usec(lsc_journal *journal, uint64_t *usec) {
    return sd.get_realtime_usec((sd_journal *)journal, usec);
}
void lsc_journal_restart_data(lsc_journal *journal) { sd.restart_data((sd_journal *)journal); }
int lsc_journal_enumerate_data(lsc_journal *journal, const void **data, size_t *length) {
    return sd.enumerate_data((sd_journal *)journal, data, length);
}
int lsc_journal_wait(lsc_journal *journal, uint64_t timeout_usec) { return sd.wait((sd_journal *)journal, timeout_usec); }
int lsc_journal_process(lsc_journal *journal) { return sd.process((sd_journal *)journal); }

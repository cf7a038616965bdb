// libsystemd's sd-journal, loaded with dlopen by the journal reader process only: the daemon itself
// never maps libsystemd, and a build or an image without a journald input needs nothing of it. The
// prototypes are declared here (they are libsystemd's stable ABI, LIBSYSTEMD_209 and later), so
// building needs no libsystemd-dev either.
#ifndef LOG_SIDECAR_CSYSTEMD_H
#define LOG_SIDECAR_CSYSTEMD_H
#include <stddef.h>
#include <stdint.h>

typedef struct lsc_journal lsc_journal;

/// Loads libsystemd.so.0 once; 0 on success, otherwise -1 with the reason in `error`.
int lsc_journal_load(char *error, size_t error_size);

/// sd_journal_open (local only), sd_journal_open_directory and sd_journal_open_namespace: 0 or -errno.
int lsc_journal_open_local(lsc_journal **journal);
int lsc_journal_open_directory(lsc_journal **journal, const char *path);
int lsc_journal_open_namespace(lsc_journal **journal, const char *name);
void lsc_journal_close(lsc_journal *journal);

int lsc_journal_set_data_threshold(lsc_journal *journal, size_t size);
int lsc_journal_add_match(lsc_journal *journal, const void *data, size_t size);
int lsc_journal_add_disjunction(lsc_journal *journal);
int lsc_journal_add_conjunction(lsc_journal *journal);
void lsc_journal_flush_matches(lsc_journal *journal);

int lsc_journal_seek_head(lsc_journal *journal);
int lsc_journal_seek_tail(lsc_journal *journal);
int lsc_journal_seek_cursor(lsc_journal *journal, const char *cursor);
int lsc_journal_test_cursor(lsc_journal *journal, const char *cursor);
int lsc_journal_next(lsc_journal *journal);
int lsc_journal_previous(lsc_journal *journal);

/// The current entry's cursor, malloc'ed (free it with free()).
int lsc_journal_get_cursor(lsc_journal *journal, char **cursor);
int lsc_journal_get_realtime_usec(lsc_journal *journal, uint64_t *usec);
void lsc_journal_restart_data(lsc_journal *journal);
/// The next "FIELD=value" of the current entry: 1, 0 at the end, or -errno.
int lsc_journal_enumerate_data(lsc_journal *journal, const void **data, size_t *length);

/// Takes the journal's inotify events (new, rotated and deleted files) without waiting: 0 or more, or -errno.
int lsc_journal_process(lsc_journal *journal);

/// Waits for a change (sd_journal_wait: it processes inotify events itself) up to `timeout_usec`.
int lsc_journal_wait(lsc_journal *journal, uint64_t timeout_usec);

#endif

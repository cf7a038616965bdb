#ifndef LOG_SIDECAR_CSYSTEMD_SHIM_H
#define LOG_SIDECAR_CSYSTEMD_SHIM_H

// sd_journal_send is variadic and cannot be called from Swift; sd_journal_sendv can.
// Without this define the header's macros add CODE_FILE/CODE_LINE of this shim to every entry.
#define SD_JOURNAL_SUPPRESS_LOCATION 1
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#endif

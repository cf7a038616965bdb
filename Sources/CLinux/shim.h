#ifndef LOG_SIDECAR_CLINUX_SHIM_H
#define LOG_SIDECAR_CLINUX_SHIM_H

// The Linux calls Swift's Glibc module does not import (memfd_create, file seals, SIOCOUTQ, prctl,
// F_SETPIPE_SZ, accept4), the ones that need C's CMSG macros, and posix_spawn's attribute dance, as small inline functions. Nothing to link: all of it is glibc.
// No _GNU_SOURCE: it would change glibc's types under Swift's own Glibc module, so the few GNU
// constants are spelled out (they are kernel ABI and never change).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <linux/sockios.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/// An address for `path`; -1 (EINVAL) when it does not fit in sun_path.
static inline int clinux_unix_address(const char *path, struct sockaddr_un *address, socklen_t *length) {
    size_t size = strlen(path);
    if (size >= sizeof(address->sun_path)) { errno = EINVAL; return -1; }
    memset(address, 0, sizeof(*address));
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path, path, size);
    *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + size + 1);
    return 0;
}

/// One datagram to the socket bound at `path`.
static inline ssize_t clinux_send_datagram(int fd, const char *path, const void *bytes, size_t count) {
    struct sockaddr_un address;
    socklen_t length;
    if (clinux_unix_address(path, &address, &length) < 0) return -1;
    return sendto(fd, bytes, count, MSG_NOSIGNAL, (const struct sockaddr *)&address, length);
}

/// A datagram with no payload that carries `passed` (SCM_RIGHTS): journald's way for large entries.
static inline ssize_t clinux_send_descriptor(int fd, const char *path, int passed) {
    struct sockaddr_un address;
    socklen_t length;
    if (clinux_unix_address(path, &address, &length) < 0) return -1;
    union { struct cmsghdr header; char space[CMSG_SPACE(sizeof(int))]; } control;
    memset(&control, 0, sizeof(control));
    struct msghdr message = { .msg_name = &address, .msg_namelen = length,
                              .msg_control = &control, .msg_controllen = sizeof(control) };
    struct cmsghdr *header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(header), &passed, sizeof(int));
    return sendmsg(fd, &message, MSG_NOSIGNAL);
}

/// 0 when a socket is bound and listening at `path`; -1 with errno (ECONNREFUSED: its owner is gone).
static inline int clinux_probe_datagram_socket(const char *path) {
    struct sockaddr_un address;
    socklen_t length;
    if (clinux_unix_address(path, &address, &length) < 0) return -1;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int result = connect(fd, (const struct sockaddr *)&address, length);
    int saved = errno;
    close(fd);
    errno = saved;
    return result;
}

/// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING).
static inline int clinux_memfd(const char *name) { return (int)syscall(SYS_memfd_create, name, 0x0001U | 0x0002U); }

/// Seals a memfd for good (F_ADD_SEALS: SEAL, SHRINK, GROW, WRITE): journald maps a sealed one from
/// any user instead of refusing it.
static inline int clinux_seal_all(int fd) { return fcntl(fd, 1024 + 9, 0x0001 | 0x0002 | 0x0004 | 0x0008); }

/// Bytes this socket sent that their receiver has not read yet (for AF_UNIX datagrams: still queued).
static inline int clinux_unread_output_bytes(int fd) {
    int count = 0;
    if (ioctl(fd, SIOCOUTQ, &count) < 0) return -1;
    return count;
}

/// Makes us the reaper of our descendants' orphans (PR_SET_CHILD_SUBREAPER), as PID 1 is.
static inline int clinux_become_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

/// Names the calling thread (the kernel keeps 15 bytes and a NUL): what /proc/PID/task/*/comm shows.
/// The caller gets SIGKILL when its parent dies (the journal reader never outlives the daemon).
static inline int clinux_die_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0); }

static inline int clinux_name_thread(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: the health server's connections, in one call.
static inline int clinux_accept_nonblocking(int fd) { return (int)syscall(SYS_accept4, fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC); }

/// How late the calling thread's timers may fire (PR_SET_TIMERSLACK, ns); 0 restores the default.
static inline int clinux_set_timer_slack(unsigned long ns) { return prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0); }

/// The calling thread's timer slack in ns (PR_GET_TIMERSLACK).
static inline long clinux_timer_slack(void) { return (long)prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0); }

/// pipe2(fds, O_CLOEXEC): both ends closed on exec from the start (pipe2 needs _GNU_SOURCE).
static inline int clinux_pipe_cloexec(int fds[2]) { return (int)syscall(SYS_pipe2, fds, O_CLOEXEC); }

/// Sets a pipe's capacity (F_SETPIPE_SZ); returns the capacity granted, or -1.
static inline int clinux_set_pipe_size(int fd, int size) { return fcntl(fd, 1024 + 7, size); }

/// Starts `argv[0]` (searched in PATH, no shell) with our environment and stdin, its stdout and stderr
/// on `out` and `err`. The child starts with no signal blocked and SIGPIPE at its default (we block
/// signals for sigwait and ignore SIGPIPE; a child must not inherit either). Returns 0 or an errno:
/// glibc reports a failed exec (ENOENT, EACCES, ENOEXEC) here, not as a child that exits 127.
static inline int clinux_spawn(pid_t *pid, char *const argv[], char *const envp[], int out, int err) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int result = posix_spawn_file_actions_init(&actions);
    if (result != 0) return result;
    result = posix_spawnattr_init(&attributes);
    if (result != 0) { posix_spawn_file_actions_destroy(&actions); return result; }
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    if (result == 0) result = posix_spawn_file_actions_adddup2(&actions, out, 1);
    if (result == 0) result = posix_spawn_file_actions_adddup2(&actions, err, 2);
    if (result == 0) result = posix_spawnattr_setsigmask(&attributes, &none);
    if (result == 0) result = posix_spawnattr_setsigdefault(&attributes, &defaults);
    if (result == 0) result = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (result == 0) result = posix_spawnp(pid, argv[0], &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return result;
}

#endif

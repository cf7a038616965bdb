#ifndef LOG_SIDECAR_CLINUX_SHIM_H
#define LOG_SIDECAR_CLINUX_SHIM_H

// The Linux calls Swift's Glibc module does not import (memfd_create, file seals, SIOCOUTQ) and the
// ones that need C's CMSG macros, as small inline functions. Nothing to link: all of it is glibc.
// No _GNU_SOURCE: it would change glibc's types under Swift's own Glibc module, so the few GNU
// constants are spelled out (they are kernel ABI and never change).
#include <errno.h>
#include <fcntl.h>
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

#endif

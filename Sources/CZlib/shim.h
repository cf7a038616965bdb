// zlib from Debian's zlib1g-dev, for the HTTP sinks' gzip bodies. Package.swift links the static
// archive (150 KB), so the binary needs no libz at run time.
#include <zlib.h>

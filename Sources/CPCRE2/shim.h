// PCRE2's 8-bit library from Debian's libpcre2-dev. The width must be chosen before the header; the
// functions are then the `_8` names (pcre2_compile_8 ...), since Swift does not import the macros
// that alias them. Package.swift links the static archive, so the binary needs no libpcre2 at run time.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#ifndef LOG_SIDECAR_FUZZER_DRIVER_H
#define LOG_SIDECAR_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's entry point for a program that has its own main (libclang_rt.fuzzer, linked by
// -sanitize=fuzzer; its own main is then left out by the linker).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif

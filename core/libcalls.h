/* core/libcalls.h -- the addresses of the services generated code calls (weft_libcall_id, vm.h).
 * Implemented in core/libcalls.c; read by the host table's libcall slot (core/host.c). */
#ifndef WEFT_CORE_LIBCALLS_H
#define WEFT_CORE_LIBCALLS_H

#include <stdint.h>

/* The address of libcall `id`, or NULL for an unknown id or a service no loaded plugin provides. */
void *core_libcall_addr(uint32_t id);

#endif
